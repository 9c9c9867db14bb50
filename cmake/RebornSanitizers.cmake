# REBORN_SANITIZE=address|undefined|address,undefined|thread applies to every
# target in the tree.
if(REBORN_SANITIZE STREQUAL "address,undefined")
  add_compile_options(-fsanitize=address,undefined
                      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(REBORN_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address)
elseif(REBORN_SANITIZE STREQUAL "undefined")
  add_compile_options(-fsanitize=undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=undefined)
elseif(REBORN_SANITIZE STREQUAL "thread")
  # asio uses std::atomic_thread_fence, which GCC warns about under TSan.
  add_compile_options(-fsanitize=thread -Wno-tsan)
  add_link_options(-fsanitize=thread)
elseif(NOT REBORN_SANITIZE STREQUAL "")
  message(FATAL_ERROR
          "REBORN_SANITIZE must be address, undefined, address,undefined or thread")
endif()
