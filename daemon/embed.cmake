# Turn the Lua scripts into C string constants (scripts.h), so the daemon
# carries them and Redis caches them by SHA1.
set(out "/* Generated from the daemon Lua scripts by embed.cmake; do not edit. */\n")
foreach(name decide cancel read erase)
  file(READ ${SRC}/${name}.lua body)
  string(REPLACE "\\" "\\\\" body "${body}")
  string(REPLACE "\"" "\\\"" body "${body}")
  string(REPLACE "\n" "\\n\" \\\n\t\"" body "${body}")
  string(TOUPPER ${name} upper)
  string(APPEND out "#define SCRIPT_${upper}_LUA \\\n\t\"${body}\"\n")
endforeach()
file(WRITE ${DST}.tmp "${out}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${DST}.tmp ${DST})
