#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace reborn {

namespace partial_quicksort_internal {

template <typename T, typename Cmp>
size_t Median3(const std::vector<T>& v, size_t a, size_t b, size_t c,
               const Cmp& cmp) {
  if (cmp(v[a], v[b]) < 0) {
    return cmp(v[b], v[c]) < 0 ? b : (cmp(v[a], v[c]) < 0 ? c : a);
  }
  return cmp(v[b], v[c]) > 0 ? b : (cmp(v[a], v[c]) < 0 ? a : c);
}

template <typename T>
void SwapRuns(std::vector<T>& v, size_t a, size_t b, size_t n) {
  for (size_t i = 0; i < n; ++i) std::swap(v[a + i], v[b + i]);
}

}  // namespace partial_quicksort_internal

// Redis' pqsort (pqsort.c): Bentley & McIlroy's quicksort that only descends
// into partitions overlapping the wanted positions [lrange, rrange] of
// v[a, a + n), so those positions end up sorted and the rest merely
// partitioned around them. Redis sorts COUNT-limited GEO results with it;
// elements that compare equal come out in the order this algorithm leaves
// them, so it is followed step by step to give Redis' exact order. `cmp`
// answers <0, 0 or >0.
template <typename T, typename Cmp>
void PartialQuickSort(std::vector<T>& v, size_t a, size_t n, size_t lrange,
                      size_t rrange, const Cmp& cmp) {
  // Whether [lo, lo + len) holds any wanted position.
  auto wanted = [&](size_t lo, size_t len) {
    return !((lrange < lo && rrange < lo) ||
             (lrange >= lo + len && rrange >= lo + len));
  };
  for (;;) {
    if (n < 7) {  // insertion sort
      for (size_t m = a + 1; m < a + n; ++m) {
        for (size_t l = m; l > a && cmp(v[l - 1], v[l]) > 0; --l) {
          std::swap(v[l], v[l - 1]);
        }
      }
      return;
    }
    size_t pm = a + n / 2;
    if (n > 7) {
      size_t pl = a, pn = a + n - 1;
      if (n > 40) {
        const size_t d = n / 8;
        pl =
            partial_quicksort_internal::Median3(v, pl, pl + d, pl + 2 * d, cmp);
        pm = partial_quicksort_internal::Median3(v, pm - d, pm, pm + d, cmp);
        pn =
            partial_quicksort_internal::Median3(v, pn - 2 * d, pn - d, pn, cmp);
      }
      pm = partial_quicksort_internal::Median3(v, pl, pm, pn, cmp);
    }
    std::swap(v[a], v[pm]);
    // Three-way partition: equal keys are parked at both ends, then moved
    // to the middle.
    size_t pa = a + 1, pb = a + 1, pc = a + n - 1, pd = a + n - 1;
    for (;;) {
      int c;
      while (pb <= pc && (c = cmp(v[pb], v[a])) <= 0) {
        if (c == 0) std::swap(v[pa++], v[pb]);
        ++pb;
      }
      while (pb <= pc && (c = cmp(v[pc], v[a])) >= 0) {
        if (c == 0) std::swap(v[pc], v[pd--]);
        --pc;
      }
      if (pb > pc) break;
      std::swap(v[pb++], v[pc--]);
    }
    const size_t pn = a + n;
    size_t r = std::min(pa - a, pb - pa);
    partial_quicksort_internal::SwapRuns(v, a, pb - r, r);
    r = std::min(pd - pc, pn - pd - 1);
    partial_quicksort_internal::SwapRuns(v, pb, pn - r, r);
    if ((r = pb - pa) > 1 && wanted(a, r)) {
      PartialQuickSort(v, a, r, lrange, rrange, cmp);
    }
    if ((r = pd - pc) > 1) {
      a = pn - r;
      n = r;
      if (wanted(a, n)) continue;
    }
    return;
  }
}

}  // namespace reborn
