#include "qdb/access_clock.h"

#include <gtest/gtest.h>

#include <string>

namespace reborn::qdb {
namespace {

constexpr int64_t kStart = 1'800'000'000;

TEST(AccessClockTest, UntouchedKeysAreIdleSinceTheStart) {
  AccessClock clock(kStart);
  EXPECT_EQ(clock.IdleSeconds(0, "k", kStart + 30), 30);
  EXPECT_EQ(clock.IdleSeconds(0, "k", kStart - 5), 0);  // clock went back
  clock.SetIdle(0, "r", 5000, kStart + 30);
  EXPECT_EQ(clock.IdleSeconds(0, "r", kStart + 30), 5000);
}

TEST(AccessClockTest, TouchRestartsTheIdleTimePerDbAndKey) {
  AccessClock clock(kStart);
  clock.Touch(0, "k", kStart + 10);
  EXPECT_EQ(clock.IdleSeconds(0, "k", kStart + 10), 0);
  EXPECT_EQ(clock.IdleSeconds(0, "k", kStart + 25), 15);
  clock.Touch(0, "k", kStart + 20);
  EXPECT_EQ(clock.IdleSeconds(0, "k", kStart + 25), 5);
}

TEST(AccessClockTest, SetIdleDatesTheAccessBack) {
  AccessClock clock(kStart);
  clock.Touch(2, "r", kStart + 100);
  clock.SetIdle(2, "r", 1000, kStart + 100);
  EXPECT_EQ(clock.IdleSeconds(2, "r", kStart + 100), 1000);
  // Further back than 1970: as idle as the clock can say.
  clock.SetIdle(2, "r", int64_t{1} << 40, kStart + 100);
  EXPECT_GE(clock.IdleSeconds(2, "r", kStart + 100), kStart);
}

// With far more keys than slots, keys share entries. Whatever they do, no
// answer may exceed the key's real idle time.
TEST(AccessClockTest, SharedEntriesNeverOverstateIdleTime) {
  AccessClock clock(kStart);
  const int kKeys = static_cast<int>(AccessClock::kSlots) * 2;
  for (int i = 0; i < kKeys; ++i) {
    clock.Touch(0, "key" + std::to_string(i), kStart + 1 + i % 7);
  }
  // Keys restored as long idle must not age the keys they share with.
  for (int i = 0; i < kKeys; i += 3) {
    clock.SetIdle(0, "key" + std::to_string(i), 500, kStart + 8);
  }
  int restored_exact = 0;
  for (int i = 0; i < kKeys; ++i) {
    const int64_t idle =
        clock.IdleSeconds(0, "key" + std::to_string(i), kStart + 8);
    const int64_t real = i % 3 == 0 ? 500 : 8 - (1 + i % 7);
    ASSERT_LE(idle, real) << i;
    restored_exact += i % 3 == 0 && idle == 500;
  }
  // A restored key that still owns its entry reads exactly.
  EXPECT_GT(restored_exact, kKeys / 3 / 10);
}

}  // namespace
}  // namespace reborn::qdb

namespace reborn::qdb {
namespace {

TEST(AccessClockLfuTest, CountsDecaysAndIsSetByRestore) {
  AccessClock clock(1000);
  const int64_t now = 1'700'000'000;
  clock.Touch(0, "k", now);  // LFU off: nothing counted
  EXPECT_FALSE(clock.lfu_enabled());
  clock.SetLfu(/*enabled=*/true, /*log_factor=*/0, /*decay_minutes=*/1);
  // With log factor 0 every access counts; the first one, taking the
  // entry for the counter, starts it at the initial value.
  clock.Touch(0, "new", now);
  EXPECT_EQ(clock.Frequency(0, "new", now), AccessClock::kLfuInitValue);
  for (int i = 0; i < 3; ++i) clock.Touch(0, "new", now);
  EXPECT_EQ(clock.Frequency(0, "new", now), AccessClock::kLfuInitValue + 3);
  // One point per elapsed lfu-decay-time minute, never below zero.
  EXPECT_EQ(clock.Frequency(0, "new", now + 120),
            AccessClock::kLfuInitValue + 1);
  EXPECT_EQ(clock.Frequency(0, "new", now + 3600), 0);
  clock.SetFrequency(0, "restored", 200, now);
  EXPECT_EQ(clock.Frequency(0, "restored", now), 200);
  for (int i = 0; i < 100; ++i) clock.Touch(0, "restored", now);
  EXPECT_EQ(clock.Frequency(0, "restored", now), 255);  // saturates
  EXPECT_EQ(clock.Frequency(1, "restored", now), AccessClock::kLfuInitValue);
}

TEST(AccessClockLfuTest, HighCountersGrowLogarithmically) {
  AccessClock clock(1000);
  const int64_t now = 1'700'000'000;
  clock.SetLfu(true, 10, 1);
  for (int i = 0; i < 1000; ++i) clock.Touch(0, "hot", now);
  // Redis' table for lfu-log-factor 10: 1K hits reach about 18.
  const int freq = clock.Frequency(0, "hot", now);
  EXPECT_GT(freq, 10);
  EXPECT_LT(freq, 30);
}

}  // namespace
}  // namespace reborn::qdb
