# Warnings as errors for our own targets only; third-party headers are SYSTEM.
function(reborn_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers)
endfunction()
