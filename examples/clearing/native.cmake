# native.cmake — the clearing demo's native half (mesh + slicing kernel, plain
# C11, no manycore and no Python), included from examples/clearing/CMakeLists.txt:
#   clearing_native   static library the demo host links
#   clearing_slicer   the same code as a shared library, for ctypes in the
#                     process-pool comparison
#   clearing.native   ctest (cmocka), when BUILD_TESTING
#   fuzz_stl          libFuzzer target for the STL reader, when MC_FUZZ
# Paths are relative to this file, so it works whoever includes it.

set(_clr_dir ${CMAKE_CURRENT_LIST_DIR})
set(_clr_tests ${CMAKE_CURRENT_LIST_DIR}/../../tests/clearing)
set(_clr_sources ${_clr_dir}/mesh.c ${_clr_dir}/slicer.c)

add_library(clearing_native STATIC ${_clr_sources})
target_include_directories(clearing_native PUBLIC ${_clr_dir})
target_link_libraries(clearing_native PUBLIC m)
set_target_properties(clearing_native PROPERTIES POSITION_INDEPENDENT_CODE ON)

# The headers mark every clr_* function visibility("default"), so the
# project-wide hidden preset exports exactly the API: clr_mesh_*,
# clr_slicer_new/_slice/_examined/_free and clr_free (frees what a slice
# returns, from Python's side of ctypes).
add_library(clearing_slicer SHARED ${_clr_sources})
target_include_directories(clearing_slicer PUBLIC ${_clr_dir})
target_link_libraries(clearing_slicer PRIVATE m)

if(BUILD_TESTING)
  # tests/CMakeLists.txt finds cmocka too, but after examples/: same cache
  # variables, so whichever runs first does the search.
  find_library(CMOCKA_LIBRARY cmocka)
  find_path(CMOCKA_INCLUDE_DIR cmocka.h)
  if(NOT TARGET Threads::Threads)
    find_package(Threads REQUIRED)
  endif()
  if(CMOCKA_LIBRARY AND CMOCKA_INCLUDE_DIR)
    add_executable(test_clearing_native ${_clr_tests}/test_native.c)
    target_include_directories(test_clearing_native PRIVATE ${CMOCKA_INCLUDE_DIR})
    target_link_libraries(test_clearing_native PRIVATE clearing_native ${CMOCKA_LIBRARY} Threads::Threads)
    add_test(NAME clearing.native COMMAND test_clearing_native)
    # Plain C, no Python: "core" like the other TSan-clean tests.
    set_tests_properties(clearing.native PROPERTIES LABELS "core;clearing" TIMEOUT 300)
  else()
    message(WARNING "cmocka not found: clearing.native test not built")
  endif()
endif()

if(MC_FUZZ)
  # Run: fuzz_stl -max_total_time=60 [corpus-dir]
  add_executable(fuzz_stl ${_clr_tests}/fuzz_stl.c)
  target_compile_options(fuzz_stl PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_stl PRIVATE -fsanitize=fuzzer)
  target_link_libraries(fuzz_stl PRIVATE clearing_native)
endif()
