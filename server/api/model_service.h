// ModelService: what the arrival model has learned and how well it predicts
// (prequential metrics per type and venue), and the anatomy of one
// prediction.
#ifndef NOQUEUE_SERVER_API_MODEL_SERVICE_H_
#define NOQUEUE_SERVER_API_MODEL_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "noqueue/v1/model.grpc.pb.h"
#include "server/access/access_control.h"
#include "server/core/crowd_tracker.h"
#include "server/core/learner.h"
#include "server/store/store.h"

namespace noqueue::server {

class ModelServiceImpl final : public v1::ModelService::CallbackService {
 public:
  ModelServiceImpl(AccessControl* access, Store* store, const Learner* learning,
                   CrowdTracker* crowd)
      : access_(access), store_(store), learning_(learning), crowd_(crowd) {}
  grpc::ServerUnaryReactor* GetModelInfo(
      grpc::CallbackServerContext* ctx, const v1::GetModelInfoRequest* request,
      v1::GetModelInfoResponse* response) override;
  grpc::ServerUnaryReactor* ExplainPrediction(
      grpc::CallbackServerContext* ctx,
      const v1::ExplainPredictionRequest* request,
      v1::ExplainPredictionResponse* response) override;

 private:
  AccessControl* const access_;
  Store* const store_;
  const Learner* const learning_;
  CrowdTracker* const crowd_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_API_MODEL_SERVICE_H_
