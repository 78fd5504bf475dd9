// Steele, Lea & Flood's SplitMix64: a small, fast generator whose seeding is
// free, so that every simulated day has its own stream (common random numbers
// across schedules stay exact) without the cost of seeding a Mersenne
// Twister (312 words) for each day. A UniformRandomBitGenerator.
#ifndef NOQUEUE_SCHEDULER_SPLIT_MIX64_H_
#define NOQUEUE_SCHEDULER_SPLIT_MIX64_H_

#include <cstdint>

namespace noqueue::scheduler {

class SplitMix64 {
 public:
  using result_type = uint64_t;
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

}  // namespace noqueue::scheduler

#endif  // NOQUEUE_SCHEDULER_SPLIT_MIX64_H_
