// OperatorHttp: what the HTTP listener (--metrics_listen) serves.
//   GET /metrics                       Prometheus text format (no key)
//   GET /healthz                       200 serving, 503 draining (no key):
//                                      for a load balancer's HTTP check
//   GET /                              the operator's page: venue list
//   GET /venues/{venue_id}             the operator's page of a venue
//   GET /operator.js, /operator.css    the page's script and style
//   GET /api/venues                    OperatorVenues as JSON  (key)
//   GET /api/venues/{venue_id}         OperatorView as JSON    (key)
//   GET /api/venues/{venue_id}/queue.svg  the queue chart      (key)
// "(key)": an API key in "Authorization: Bearer <key>", checked by the same
// access control as the gRPC API (Rpc::kOperatorVenues, kOperatorView).
// The page itself holds no data: its script reads the key from the URL's
// fragment (#key=..., never sent to the server), keeps it for the tab, and
// calls the JSON endpoints with it.
#ifndef NOQUEUE_SERVER_OPS_OPERATOR_HTTP_H_
#define NOQUEUE_SERVER_OPS_OPERATOR_HTTP_H_

#include <atomic>

#include "server/access/access_control.h"
#include "server/common/metrics.h"
#include "server/ops/http_listener.h"
#include "server/ops/operator_view.h"

namespace noqueue::server {

class OperatorHttp {
 public:
  OperatorHttp(AccessControl* access, OperatorSources sources,
               const metrics::Scrape* scrape)
      : access_(access), sources_(sources), scrape_(scrape) {}

  HttpResponse Handle(const HttpRequest& request);
  // From now on /healthz answers 503: the server is stopping.
  void SetDraining() { draining_ = true; }

 private:
  HttpResponse Api(const HttpRequest& request, absl::string_view rest);

  AccessControl* const access_;
  const OperatorSources sources_;
  const metrics::Scrape* const scrape_;
  std::atomic<bool> draining_{false};
};

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_OPS_OPERATOR_HTTP_H_
