// Sizes for the suite's heaviest tests. A build with ASan + UBSan or TSan runs the same suite
// several times slower (TSan: 5-15x), and CI runs it under both, so those tests take a smaller
// size there: the sanitizers look for memory errors, undefined behaviour and data races in the
// code paths a test drives, and a few thousand events drive the same paths as fifty thousand. The
// dev stage keeps the full sizes, so the consistency properties are still checked at scale.
#pragma once

namespace keyledger::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

// `full` in an uninstrumented build, `sanitized` under ASan or TSan.
template <typename T>
constexpr T FullOrSanitized(T full, T sanitized) {
  return kSanitized ? sanitized : full;
}

}  // namespace keyledger::testing
