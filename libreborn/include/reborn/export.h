#pragma once

// REBORN_EXPORT marks the public API of libreborn: the classes and free
// functions declared in reborn/*.h. The library is compiled with
// -fvisibility=hidden and -fvisibility-inlines-hidden, so everything else
// (the internal namespaces reborn::qdb, reborn::coord, reborn::proxy, ...)
// stays out of the shared library's dynamic symbol table: it cannot clash with
// a program's own symbols, and it is not part of the ABI.
//
// Marking a class exports its out-of-line members, vtable and type info;
// users deriving from an exported interface (Coordinator, SlotTableSource)
// need nothing more.

#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(REBORN_BUILDING_LIBRARY)
#define REBORN_EXPORT __declspec(dllexport)
#else
#define REBORN_EXPORT __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define REBORN_EXPORT __attribute__((visibility("default")))
#else
#define REBORN_EXPORT
#endif
