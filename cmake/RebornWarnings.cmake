# Warnings for our own targets only (third-party headers are SYSTEM); errors
# with REBORN_WERROR (on in reborn.sh and CI).
function(reborn_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
  if(REBORN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
