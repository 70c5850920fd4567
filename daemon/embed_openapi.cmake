# Turn the OpenAPI document (conf/share/openapi.json, also installed in
# share/pacer/) into a C array (openapi.h) so that pacerd serves
# GET /v1/openapi.json from its own binary: the answer always describes the
# daemon that gives it, whatever is installed beside it. A document that is
# not JSON fails the build.
file(READ ${SRC} doc)
string(JSON kind ERROR_VARIABLE err TYPE "${doc}")
if(err OR NOT kind STREQUAL "OBJECT")
  message(FATAL_ERROR "${SRC}: not a JSON object: ${err}")
endif()
file(READ ${SRC} hex HEX)
string(LENGTH "${hex}" len)
math(EXPR len "${len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
# 16 bytes a line (CMake's regular expressions have no {16}).
string(REPEAT "0x[0-9a-f][0-9a-f]," 16 line)
string(REGEX REPLACE "(${line})" "\\1\n\t" hex "${hex}")
set(out "/* Generated from conf/share/openapi.json by embed_openapi.cmake; do not edit. */\n")
string(APPEND out "#define OPENAPI_JSON_LEN ${len}\n")
string(APPEND out "static const unsigned char openapi_json[OPENAPI_JSON_LEN] = {\n\t${hex}\n};\n")
file(WRITE ${DST}.tmp "${out}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${DST}.tmp ${DST})
