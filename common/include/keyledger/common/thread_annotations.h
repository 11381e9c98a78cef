// Clang's thread-safety annotations (checked by -Wthread-safety in the clang build), as Abseil
// spells them. Other compilers see nothing. Use them with common::Mutex (mutex.h): std::mutex
// carries no annotations of its own.
#pragma once

#if defined(__clang__)
#define KL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define KL_THREAD_ANNOTATION(x)
#endif

#define KL_CAPABILITY(x) KL_THREAD_ANNOTATION(capability(x))
#define KL_SCOPED_CAPABILITY KL_THREAD_ANNOTATION(scoped_lockable)
#define KL_GUARDED_BY(x) KL_THREAD_ANNOTATION(guarded_by(x))
#define KL_PT_GUARDED_BY(x) KL_THREAD_ANNOTATION(pt_guarded_by(x))
#define KL_REQUIRES(...) KL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define KL_REQUIRES_SHARED(...) KL_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define KL_ACQUIRE(...) KL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define KL_ACQUIRE_SHARED(...) KL_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define KL_RELEASE(...) KL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define KL_RELEASE_SHARED(...) KL_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define KL_RELEASE_GENERIC(...) KL_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define KL_EXCLUDES(...) KL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define KL_RETURN_CAPABILITY(x) KL_THREAD_ANNOTATION(lock_returned(x))
#define KL_NO_THREAD_SAFETY_ANALYSIS KL_THREAD_ANNOTATION(no_thread_safety_analysis)
