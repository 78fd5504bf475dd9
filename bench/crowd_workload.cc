// The crowd's two RPCs under closed-loop load: ReportQueue (a finished wait
// reported, stored and folded into the venue's live estimate) and
// GetVenueStatus (the estimate read), at each concurrency level, against
// the echo of messages of the same sizes.
#include "bench/crowd_workload.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/workloads.h"
#include "noqueue/v1/crowd.grpc.pb.h"

namespace noqueue::bench {

void MeasureCrowd(BenchRun& run) {
  const std::string venue = "bench-100";
  std::vector<std::unique_ptr<v1::CrowdService::Stub>> stubs;
  for (auto& ch : run.noqueue_channels()) {
    stubs.push_back(v1::CrowdService::NewStub(ch));
  }
  const size_t report_bytes = Report(venue, 0).ByteSizeLong();
  v1::GetVenueStatusRequest status_req;
  status_req.set_venue_id(venue);
  for (int c : run.levels()) {
    struct Slot {
      v1::ReportQueueRequest req;
      v1::ReportQueueResponse resp;
      v1::GetVenueStatusResponse status;
      std::unique_ptr<grpc::ClientContext> ctx;
    };
    std::vector<Slot> slots(c);
    std::atomic<int64_t> seq{run.next_report()};
    for (Point& p : run.Interleaved(
             {[&] {
                return run.Measure(
                    "ReportQueue", "noqueue", c, 1, run.noqueue_pid(),
                    [&](int slot, Done done) {
                      Slot& s = slots[slot];
                      s.req = Report(venue, seq++);
                      s.ctx = NewContext();
                      stubs[slot % stubs.size()]->async()->ReportQueue(
                          s.ctx.get(), &s.req, &s.resp, std::move(done));
                    });
              },
              [&] {
                return run.EchoUnary("ReportQueue", c, report_bytes, 32);
              }})) {
      run.Add(std::move(p));
    }
    run.set_next_report(seq);
    size_t status_bytes = 64;
    for (Point& p : run.Interleaved(
             {[&] {
                return run.Measure(
                    "GetVenueStatus", "noqueue", c, 1, run.noqueue_pid(),
                    [&](int slot, Done done) {
                      Slot& s = slots[slot];
                      status_bytes =
                          std::max(status_bytes, s.status.ByteSizeLong());
                      s.ctx = NewContext();
                      stubs[slot % stubs.size()]->async()->GetVenueStatus(
                          s.ctx.get(), &status_req, &s.status, std::move(done));
                    });
              },
              [&] {
                return run.EchoUnary("GetVenueStatus", c,
                                     status_req.ByteSizeLong(), status_bytes);
              }})) {
      run.Add(std::move(p));
    }
  }
}

}  // namespace noqueue::bench
