// Overload and abuse, end to end: tagging streams opened by the hundred and
// abandoned, cancelled mid-stream, devices that never read their acks, more
// streams than the server takes. The server refuses what is past its limits
// with RESOURCE_EXHAUSTED, keeps answering cheap calls meanwhile, and frees
// everything once the load goes.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "noqueue/v1/arrival.grpc.pb.h"
#include "tests/support/running_server.h"
#include "tests/support/test_util.h"

namespace noqueue {
namespace {

using testing::Running;
using testing::TempDir;
using Stream = grpc::ClientReaderWriter<v1::ArrivalEvent, v1::ArrivalAck>;

// A StreamArrivals call of its own, with its context.
struct OpenStream {
  OpenStream(v1::ArrivalService::Stub& stub, const std::string& key,
             absl::Duration deadline = absl::Seconds(30)) {
    ctx.AddMetadata("authorization", "Bearer " + key);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    stream = stub.StreamArrivals(&ctx);
  }
  grpc::ClientContext ctx;
  std::unique_ptr<Stream> stream;
};

// A schedule whose attendees the streams tag.
struct Day {
  explicit Day(Running& s) {
    REQUIRE(s.client->UpsertVenue(testing::ClinicVenue()).ok());
    auto schedule =
        s.client->CreateSchedule(testing::ScheduleRequest("clinic-1", 50));
    REQUIRE(schedule.ok());
    id = schedule->schedule_id();
  }
  // The n-th tag of stream `k` (the same attendee is tagged many times
  // over: the later tags are duplicates, which is what a device resending
  // does).
  v1::ArrivalEvent Tag(int k, int n) const {
    return testing::Tag(absl::StrCat("s", k, "-", n), id,
                        absl::StrCat("a-", (k + n) % 50), v1::ARRIVED,
                        testing::Morning() + absl::Minutes(n % 180));
  }
  std::string id;
};

// A connection of its own to the server (not shared with other channels:
// it goes away with its channel).
std::shared_ptr<grpc::Channel> NewChannel(const server::NoQueueServer& server) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server.port()),
                                   grpc::InsecureChannelCredentials(), args);
}

// Waits up to 20 s for the server to have no stream open.
bool AllStreamsReleased(server::NoQueueServer& server) {
  for (int i = 0; i < 200 && server.open_streams() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return server.open_streams() == 0;
}

TEST_CASE(
    "Streams past the limit are refused with RESOURCE_EXHAUSTED and "
    "admitted again once others end") {
  TempDir dir;
  auto options = testing::TestOptions(dir);
  options.limits.max_streams = 20;
  Running s(options);
  Day day(s);
  auto stub = v1::ArrivalService::NewStub(NewChannel(*s.server));
  std::vector<std::unique_ptr<OpenStream>> open;
  for (int k = 0; k < 20; ++k) {
    open.push_back(std::make_unique<OpenStream>(*stub, s.admin_key));
    REQUIRE(open.back()->stream->Write(day.Tag(k, 0)));
    v1::ArrivalAck ack;
    REQUIRE(open.back()->stream->Read(&ack));  // admitted and served
  }
  CHECK(s.server->open_streams() == 20);
  {
    OpenStream refused(*stub, s.admin_key);
    refused.stream->WritesDone();
    v1::ArrivalAck ack;
    CHECK_FALSE(refused.stream->Read(&ack));
    const grpc::Status st = refused.stream->Finish();
    CHECK(st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
    CHECK(st.error_message().find("max_streams") != std::string::npos);
  }
  // One ends: a new one is admitted.
  open.front()->stream->WritesDone();
  CHECK(open.front()->stream->Finish().ok());
  open.erase(open.begin());
  for (int i = 0; i < 100 && s.server->open_streams() > 19; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  OpenStream again(*stub, s.admin_key);
  REQUIRE(again.stream->Write(day.Tag(99, 0)));
  v1::ArrivalAck ack;
  REQUIRE(again.stream->Read(&ack));
  CHECK(ack.event_id() == "s99-0");
  again.stream->WritesDone();
  CHECK(again.stream->Finish().ok());
  for (auto& o : open) {
    o->stream->WritesDone();
    CHECK(o->stream->Finish().ok());
  }
  CHECK(AllStreamsReleased(*s.server));
}

TEST_CASE(
    "Hundreds of streams abandoned, cancelled or never read from are all "
    "released, and cheap calls answer meanwhile") {
  Running s;
  Day day(s);
  // The abusers come on channels of their own (connections that go away
  // with them), three kinds at a time.
  std::atomic<int> opened{0};
  std::atomic<bool> abusing{true};
  std::thread abuser([&] {
    for (int round = 0; round < 10; ++round) {
      auto channel = NewChannel(*s.server);
      auto stub = v1::ArrivalService::NewStub(channel);
      std::vector<std::unique_ptr<OpenStream>> held;
      for (int k = 0; k < 30; ++k) {
        const int id = round * 100 + k;
        auto o = std::make_unique<OpenStream>(*stub, s.admin_key);
        ++opened;
        switch (k % 3) {
          case 0:  // writes a few tags, then is abandoned with its channel
            for (int n = 0; n < 3; ++n) o->stream->Write(day.Tag(id, n));
            held.push_back(std::move(o));
            break;
          case 1:  // cancelled mid-stream, after an ack
            for (int n = 0; n < 3; ++n) o->stream->Write(day.Tag(id, n));
            {
              v1::ArrivalAck ack;
              o->stream->Read(&ack);
            }
            o->ctx.TryCancel();
            (void)o->stream->Finish();
            break;
          case 2:  // writes until the server stops reading, never reads
            // (the server pauses after ArrivalStream::kMaxUnacked tags),
            // then goes away with its channel.
            {
              grpc::WriteOptions no_wait;
              for (int n = 0; n < 300; ++n)
                o->stream->Write(day.Tag(id, n), no_wait);
            }
            held.push_back(std::move(o));
            break;
        }
      }
      // The held ones go away with the connection: cancel their contexts
      // first (a sync stream must not be dropped while open).
      for (auto& o : held) {
        o->ctx.TryCancel();
        (void)o->stream->Finish();
      }
    }
    abusing = false;
  });
  // And one device that writes 20,000 tags and never reads an ack. The
  // server holds at most ArrivalStream::kMaxUnacked of its tags unanswered
  // and its acks wait on flow control; what piles up is in the device's own
  // gRPC buffers (measured: it went on writing to 341,000 tags, about 170 MB
  // of acks queued in the client, before its writes blocked).
  constexpr int kSlowTags = 20000;
  std::atomic<int> slow_written{0};
  std::thread slow_reader([&] {
    auto channel = NewChannel(*s.server);
    OpenStream o(*v1::ArrivalService::NewStub(channel), s.admin_key,
                 absl::Seconds(5));
    for (int n = 0; n < kSlowTags && o.stream->Write(day.Tag(7000, n)); ++n) {
      ++slow_written;
    }
    (void)o.stream->Finish();
  });
  // Meanwhile a well-behaved client keeps calling the cheapest RPC.
  int calls = 0;
  absl::Duration slowest;
  while (abusing) {
    const absl::Time start = absl::Now();
    auto venue = s.client->GetVenue("clinic-1");
    REQUIRE(venue.ok());
    slowest = std::max(slowest, absl::Now() - start);
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  abuser.join();
  slow_reader.join();
  INFO(opened << " streams opened, the slow reader wrote " << slow_written
              << " tags, " << calls << " GetVenue calls meanwhile, the slowest "
              << absl::FormatDuration(slowest));
  CHECK(opened == 300);
  CHECK(calls > 0);
  // Responsive: far under the client's 20 s deadline, even under a
  // sanitizer on a loaded machine.
  CHECK(slowest < absl::Seconds(5));
  CHECK(AllStreamsReleased(*s.server));
  // And a device that behaves still gets every tag acknowledged.
  std::vector<v1::ArrivalEvent> tags;
  for (int n = 0; n < 20; ++n) tags.push_back(day.Tag(5000, n));
  std::vector<v1::ArrivalAck> acks;
  REQUIRE(s.client->StreamArrivals(tags, &acks).ok());
  CHECK(acks.size() == tags.size());
}

}  // namespace
}  // namespace noqueue
