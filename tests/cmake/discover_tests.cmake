# Registers one CTest entry per doctest test case of a test binary, run with --exact=<hex> so
# that any character in a name (';' splits CMake lists, ',' and '*' are doctest filter syntax)
# selects exactly that case. Unlike doctest_discover_tests, a name cannot turn into entries
# that match nothing. Used by tests/CMakeLists.txt as seedscope_discover_tests(target ...).
#
# In script mode (cmake -P, after each build of the binary) it lists the binary's test cases
# and writes the CTest file; in project mode it defines the function that arranges that.

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_policy(SET CMP0057 NEW) # IN_LIST
  # -D BINARY=... -D PREFIX=... -D TIMEOUT=... -D OUT=...
  execute_process(COMMAND "${BINARY}" --list-test-cases --no-skip --reporters=ctest --no-version
                  OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${BINARY} --list-test-cases failed (${rc}): ${errors}")
  endif()
  string(REPLACE ";" "," listing "${listing}") # only shown names can hold ';'
  string(REPLACE "\n" ";" lines "${listing}")
  set(script "")
  set(count 0)
  set(seen "")
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^([0-9a-f]+)\t(.+)$")
      continue()
    endif()
    set(hex "${CMAKE_MATCH_1}")
    set(name "${PREFIX}${CMAKE_MATCH_2}")
    if("${name}" IN_LIST seen)
      message(FATAL_ERROR "${BINARY}: two test cases are shown as \"${name}\"; rename one")
    endif()
    list(APPEND seen "${name}")
    string(APPEND script "add_test([==[${name}]==] \"${BINARY}\" \"--exact=${hex}\")\n")
    string(APPEND script "set_tests_properties([==[${name}]==] PROPERTIES TIMEOUT ${TIMEOUT})\n")
    math(EXPR count "${count} + 1")
  endforeach()
  if(count EQUAL 0)
    message(FATAL_ERROR "${BINARY} lists no test cases")
  endif()
  file(WRITE "${OUT}" "${script}")
  return()
endif()

function(seedscope_discover_tests target)
  cmake_parse_arguments(ARG "" "PREFIX;TIMEOUT" "" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set(out "${CMAKE_CURRENT_BINARY_DIR}/${target}_ctest.cmake")
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND "${CMAKE_COMMAND}" -D "BINARY=$<TARGET_FILE:${target}>" -D "PREFIX=${ARG_PREFIX}"
            -D "TIMEOUT=${ARG_TIMEOUT}" -D "OUT=${out}" -P "${CMAKE_CURRENT_FUNCTION_LIST_FILE}"
    BYPRODUCTS "${out}" VERBATIM)
  # CTest reads the file when it runs; until the first build there is nothing to include.
  set(include "${CMAKE_CURRENT_BINARY_DIR}/${target}_include.cmake")
  file(WRITE "${include}"
       "if(EXISTS \"${out}\")\n  include(\"${out}\")\nelse()\n"
       "  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include}")
endfunction()
