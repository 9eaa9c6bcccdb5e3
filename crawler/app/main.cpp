#include "crawler/app/commands.hpp"

int main(int argc, char** argv) { return seedscope::app::run_cli(argc, argv); }
