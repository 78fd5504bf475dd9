// The operator's page: its HTML shell, script and style, served as they are
// (no external assets, no build step).
#ifndef NOQUEUE_SERVER_OPS_OPERATOR_ASSETS_H_
#define NOQUEUE_SERVER_OPS_OPERATOR_ASSETS_H_

namespace noqueue::server {

extern const char kOperatorHtml[];
extern const char kOperatorJs[];
extern const char kOperatorCss[];

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_OPS_OPERATOR_ASSETS_H_
