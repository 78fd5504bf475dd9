// The standard normal distribution's quantiles, shared by the model, the
// scheduler and whoever turns a mean and a spread into P10/P90.
//
//   double p90 = mean + kZ90 * sd;
//   double z = NormalQuantile(0.75);
#ifndef NOQUEUE_MODEL_NORMAL_H_
#define NOQUEUE_MODEL_NORMAL_H_

namespace noqueue::model {

// The standard normal's 0.9 and 0.975 quantiles.
inline constexpr double kZ90 = 1.2815515655446004;
inline constexpr double kZ975 = 1.959963984540054;

// The standard normal quantile at p in (0, 1), p clamped to [1e-12,
// 1 - 1e-12] (Acklam's approximation, relative error below 1.2e-9).
double NormalQuantile(double p);

}  // namespace noqueue::model

#endif  // NOQUEUE_MODEL_NORMAL_H_
