// Redis' partial quicksort (pqsort). Its exact order on ties is checked
// against redis-server by tests/integration/qdb_types/test_geo_diff.py.
#include "util/partial_quicksort.h"

#include <algorithm>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace reborn {
namespace {

int Compare(int a, int b) { return a < b ? -1 : a > b ? 1 : 0; }

TEST(PartialQuickSortTest, WantedPositionsHoldTheSortedValues) {
  std::mt19937 rng(1);
  for (int round = 0; round < 500; ++round) {
    const size_t n = 1 + rng() % 200;
    std::vector<int> v(n);
    for (int& x : v) x = static_cast<int>(rng() % (round % 2 ? 10 : 1000));
    std::vector<int> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    const size_t lo = rng() % n;
    const size_t hi = lo + rng() % (n - lo);
    PartialQuickSort(v, 0, n, lo, hi, Compare);
    for (size_t i = lo; i <= hi; ++i) EXPECT_EQ(v[i], sorted[i]) << i;
    // Everything else is still there.
    std::vector<int> all = v;
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, sorted);
  }
}

TEST(PartialQuickSortTest, WholeRangeSortsEverything) {
  std::vector<int> v = {5, 3, 9, 1, 1, 7, 3, 8, 2, 6, 0, 4};
  PartialQuickSort(v, 0, v.size(), 0, v.size() - 1, Compare);
  EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
}

TEST(PartialQuickSortTest, PrefixOfADescendingOrder) {
  std::vector<int> v(100);
  for (int i = 0; i < 100; ++i) v[i] = (i * 37) % 100;
  PartialQuickSort(v, 0, v.size(), 0, 4,
                   [](int a, int b) { return -Compare(a, b); });
  EXPECT_EQ(std::vector<int>(v.begin(), v.begin() + 5),
            (std::vector<int>{99, 98, 97, 96, 95}));
}

}  // namespace
}  // namespace reborn
