#include <cstdio>

int main() {
  std::puts(SEEDSCOPE_VERSION_STRING);
  return 0;
}
