// ModelService: what the arrival model has learned and how well it predicts
// (prequential metrics per type and venue), and the anatomy of one
// prediction.
#ifndef NOQUEUE_SERVER_MODEL_SERVICE_H_
#define NOQUEUE_SERVER_MODEL_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "noqueue/v1/model.grpc.pb.h"
#include "server/access_control.h"
#include "server/crowd_loop.h"
#include "server/learning_loop.h"
#include "server/store.h"

namespace noqueue::server {

class ModelServiceImpl final : public v1::ModelService::CallbackService {
 public:
  ModelServiceImpl(AccessControl* access, Store* store,
                   const LearningLoop* learning, CrowdLoop* crowd)
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
  const LearningLoop* const learning_;
  CrowdLoop* const crowd_;
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_MODEL_SERVICE_H_
