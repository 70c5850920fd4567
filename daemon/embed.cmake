# Build the daemon's Redis function library from the Lua files and turn it
# into C string constants (scripts.h). Each file defines its functions and
# registers them with register(NAME, FUNCTION[, FLAGS]); a later file finds
# an earlier one's functions in registered[NAME] (cluster.lua wraps
# decide). The library and its
# functions are named after a hash of the code, so pacerd versions sharing
# a Redis each call their own: pacer_HASH, functions pacer_NAME_HASH. The
# library is also written to pacer-library.lua (scripts/bench.sh loads it).
set(names decide cancel read erase cluster load)
# The functions the files register (one file may register several).
set(functions decide cancel read erase erase_audit explain profile
  decide_cluster merge)
set(code "")
foreach(name ${names})
  file(READ ${SRC}/${name}.lua body)
  string(APPEND code "do\n${body}end\n")
endforeach()
string(SHA1 hash "${code}")
string(SUBSTRING ${hash} 0 16 hash)
set(lib "#!lua name=pacer_${hash}\n")
string(APPEND lib "local registered = {}\n")
string(APPEND lib "local function register(name, f, flags)\n")
string(APPEND lib "  registered[name] = f\n")
string(APPEND lib "  if flags then\n")
string(APPEND lib "    redis.register_function{function_name = 'pacer_' .. name .. '_${hash}',\n")
string(APPEND lib "      callback = f, flags = flags}\n")
string(APPEND lib "  else\n")
string(APPEND lib "    redis.register_function('pacer_' .. name .. '_${hash}', f)\n")
string(APPEND lib "  end\nend\n")
string(APPEND lib "${code}")
get_filename_component(dir ${DST} DIRECTORY)
file(WRITE ${dir}/pacer-library.lua.tmp "${lib}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different
  ${dir}/pacer-library.lua.tmp ${dir}/pacer-library.lua)
string(REPLACE "\\" "\\\\" lib "${lib}")
string(REPLACE "\"" "\\\"" lib "${lib}")
string(REPLACE "\n" "\\n\" \\\n\t\"" lib "${lib}")
set(out "/* Generated from the daemon Lua files by embed.cmake; do not edit. */\n")
string(APPEND out "#define SCRIPT_LIBRARY_NAME \"pacer_${hash}\"\n")
string(APPEND out "#define SCRIPT_LIBRARY \\\n\t\"${lib}\"\n")
foreach(name ${functions})
  string(TOUPPER ${name} upper)
  string(APPEND out "#define SCRIPT_${upper} \"pacer_${name}_${hash}\"\n")
endforeach()
file(WRITE ${DST}.tmp "${out}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${DST}.tmp ${DST})
