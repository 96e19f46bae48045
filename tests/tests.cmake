# Extra test plumbing, included by CMakeLists.txt after xbar_tests exists.
#
# ONNX node tests: ONNX's own per-op conformance cases, generated at build
# time from python3-onnx (never committed: 28 MB of protobufs that onnx can
# regenerate exactly).  tools/gen_node_tests.py wraps onnx 1.12's
# `backend-test-tools generate-data` with the numpy 1.24 alias shim.  The
# list of cases we pass is tests/onnx_node_tests.txt; tests/onnx_node_test.c
# runs each through the same code as `xbar check-onnx`.

set(XBAR_ONNX_PYTHON "/usr/bin/python3" CACHE FILEPATH
    "Python with the onnx package, used to generate ONNX node tests")
set(XBAR_ONNX_NODE_ROOT "${CMAKE_BINARY_DIR}/onnx-node-tests")
set(XBAR_ONNX_NODE_DIR "${XBAR_ONNX_NODE_ROOT}/node")

set(_xbar_have_onnx_py OFF)
if(EXISTS "${XBAR_ONNX_PYTHON}")
  execute_process(
    COMMAND "${XBAR_ONNX_PYTHON}" -c "import numpy, onnx.backend.test.cmd_tools"
    RESULT_VARIABLE _xbar_onnx_rc OUTPUT_QUIET ERROR_QUIET)
  if(_xbar_onnx_rc EQUAL 0)
    set(_xbar_have_onnx_py ON)
  endif()
endif()

if(_xbar_have_onnx_py)
  message(STATUS "ONNX node tests: generated with ${XBAR_ONNX_PYTHON} into ${XBAR_ONNX_NODE_DIR}")
  set(_stamp "${XBAR_ONNX_NODE_ROOT}.stamp")
  add_custom_command(
    OUTPUT "${_stamp}"
    COMMAND "${XBAR_ONNX_PYTHON}" "${CMAKE_SOURCE_DIR}/tools/gen_node_tests.py"
            "${XBAR_ONNX_NODE_ROOT}" --stamp "${_stamp}"
    DEPENDS "${CMAKE_SOURCE_DIR}/tools/gen_node_tests.py"
    COMMENT "Generating ONNX node tests (onnx backend-test-tools generate-data)"
    VERBATIM)
  add_custom_target(onnx_node_data ALL DEPENDS "${_stamp}")
  add_dependencies(xbar_tests onnx_node_data)
  # Where the Criterion test finds the cases when run by hand (ctest also
  # sets XBAR_BUILD_DIR; XBAR_ONNX_NODE_DIR in the environment overrides).
  target_compile_definitions(xbar_tests PRIVATE
    XBAR_ONNX_NODE_DIR="${XBAR_ONNX_NODE_DIR}"
    XBAR_ONNX_NODE_LIST="${CMAKE_SOURCE_DIR}/tests/onnx_node_tests.txt")

  # The CLI on the same data: every listed case through `xbar check-onnx`
  # at once (exit 0 only if all pass), and a case we know we fail must make
  # it exit non-zero: a value mismatch, and a load failure (string tensors:
  # never in scope).
  add_test(NAME check_onnx_cli
    COMMAND xbar check-onnx --list "${CMAKE_SOURCE_DIR}/tests/onnx_node_tests.txt"
            --root "${XBAR_ONNX_NODE_DIR}")
  # Exit status exactly 1 (a crash is a signal, not 1) and both reported.
  add_test(NAME check_onnx_cli_reports_failure
    COMMAND sh -c "out=$(\"$0\" check-onnx \"$1\" \"$2\"); rc=$?; echo \"$out\"; test $rc -eq 1 && test $(echo \"$out\" | grep -c '^FAIL ') -eq 2"
            $<TARGET_FILE:xbar> "${XBAR_ONNX_NODE_ROOT}/xbar/test_wrong_float"
            "${XBAR_ONNX_NODE_DIR}/test_cast_FLOAT_to_STRING")
else()
  message(STATUS "ONNX node tests: SKIPPED (${XBAR_ONNX_PYTHON} with onnx and numpy not found; "
                 "install python3-onnx python3-numpy)")
  target_compile_definitions(xbar_tests PRIVATE
    XBAR_ONNX_NODE_LIST="${CMAKE_SOURCE_DIR}/tests/onnx_node_tests.txt")
endif()

# Layering: no layer includes one above it (tools/check_layers.sh).
add_test(NAME layers COMMAND sh "${CMAKE_SOURCE_DIR}/tools/check_layers.sh")

# The C API from outside: install into a temporary prefix, build a program
# with pkg-config and find_package(xbar), compare with xbar run
# (tests/install/run.sh).  A sanitized libxbar.so needs the sanitizer
# runtime in the program too, so the program gets the same flags.
if(XBAR_SANITIZE)
  set(_xbar_consumer_flags "-fsanitize=address,undefined")
else()
  set(_xbar_consumer_flags "")
endif()
add_test(NAME install COMMAND sh "${CMAKE_SOURCE_DIR}/tests/install/run.sh" "${CMAKE_SOURCE_DIR}"
  "${CMAKE_BINARY_DIR}" "${_xbar_consumer_flags}")

# The Python bindings with the system python (tests/python/test_xbar.py;
# exit 77 = skipped when numpy is missing).  Under the sanitizers the
# interpreter is not instrumented: the runtimes are preloaded, and leak
# checking is off (CPython keeps its own allocations to the end).
set(_xbar_py_env "XBAR_LIB=$<TARGET_FILE:xbar_shared>" "XBAR_BIN=$<TARGET_FILE:xbar>")
if(XBAR_SANITIZE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
    OUTPUT_VARIABLE _asan OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libubsan.so
    OUTPUT_VARIABLE _ubsan OUTPUT_STRIP_TRAILING_WHITESPACE)
  list(APPEND _xbar_py_env "LD_PRELOAD=${_asan} ${_ubsan}" "ASAN_OPTIONS=detect_leaks=0")
endif()
add_test(NAME python COMMAND /usr/bin/python3 "${CMAKE_SOURCE_DIR}/tests/python/test_xbar.py")
set_tests_properties(python PROPERTIES ENVIRONMENT "${_xbar_py_env}" SKIP_RETURN_CODE 77)

# Exporter coverage: small PyTorch models exported at opsets 11 and 17 (static
# and dynamic batch) by tools/export_zoo.py --keep-tests, with ONNX Runtime's
# outputs.  Committed because CI has no torch (docs/arch-kernels.md,
# "Exporter coverage").
file(GLOB XBAR_ZOO_DIRS LIST_DIRECTORIES true "${CMAKE_SOURCE_DIR}/tests/data/zoo/*")
if(XBAR_ZOO_DIRS)
  add_test(NAME check_onnx_zoo COMMAND xbar check-onnx ${XBAR_ZOO_DIRS})
endif()

# Supported-op table up to date with kernels/ops.def.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  add_test(NAME ops_md COMMAND ${Python3_EXECUTABLE} "${CMAKE_SOURCE_DIR}/tools/gen_ops_md.py" --check)
endif()

# README "Your own model": the PyTorch export snippet runs as written and
# xbar reads what it writes (skipped without torch).
add_test(NAME readme_own_model
  COMMAND sh "${CMAKE_SOURCE_DIR}/tests/readme_own_model.sh" $<TARGET_FILE:xbar> "${CMAKE_SOURCE_DIR}")
set_tests_properties(readme_own_model PROPERTIES SKIP_RETURN_CODE 77)
# The MPI build (docs/SCALE.md): `mpirun -n 2 build-mpi/xbar sweep` gives the
# plain sweep's CSV.  build-mpi is a separate tree (-DXBAR_MPI=ON); .ci/run
# builds it before the tests, elsewhere the test is skipped (exit 77) with
# the command that builds it.  The plain sweep it compares with is this
# tree's xbar.
add_test(NAME mpi_sweep COMMAND sh "${CMAKE_SOURCE_DIR}/tests/mpi/run.sh" "${CMAKE_SOURCE_DIR}"
  $<TARGET_FILE:xbar>)
set_tests_properties(mpi_sweep PROPERTIES SKIP_RETURN_CODE 77)
# Reports (issue 15): --json - keeps stdout pure JSON with the provenance
# block (run, compile), plots and HTML from saved JSON / sweep CSV
# (tests/reports/json.sh); the HTML report in headless Chromium, skipped
# with a message when chromium is not installed (tests/reports/browser.sh).
add_test(NAME reports_json COMMAND sh "${CMAKE_SOURCE_DIR}/tests/reports/json.sh" $<TARGET_FILE:xbar>
  "${CMAKE_SOURCE_DIR}" "${CMAKE_BINARY_DIR}/reports-json")
add_test(NAME reports_browser COMMAND sh "${CMAKE_SOURCE_DIR}/tests/reports/browser.sh" $<TARGET_FILE:xbar>
  "${CMAKE_SOURCE_DIR}" "${CMAKE_BINARY_DIR}/reports-browser")
set_tests_properties(reports_json reports_browser PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
