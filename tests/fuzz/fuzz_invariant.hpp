// FUZZ_INVARIANT(cond): aborts (a crash libFuzzer reports and the corpus replay fails on) when
// a property of the code under test does not hold. Unlike assert it is on in every build.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_INVARIANT(cond)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);            \
      std::abort();                                                                                \
    }                                                                                              \
  } while (0)
