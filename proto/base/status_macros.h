// The two status macros this Abseil (20220623) does not ship.
#ifndef NOQUEUE_PROTO_BASE_STATUS_MACROS_H_
#define NOQUEUE_PROTO_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define NQ_CONCAT_INNER_(a, b) a##b
#define NQ_CONCAT_(a, b) NQ_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function unless it is OK.
#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    absl::Status nq_status_ = (expr);        \
    if (!nq_status_.ok()) return nq_status_; \
  } while (0)

// `lhs` = the value of the StatusOr `expr`, or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(NQ_CONCAT_(nq_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                           \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()

#endif  // NOQUEUE_PROTO_BASE_STATUS_MACROS_H_
