// Line charts as SVG text, one or more panels side by side: the benchmarks'
// figures and the operator page's queue over the day. No I/O: the caller
// writes or serves the string.
//
//   svg::Chart chart;
//   svg::Panel& p = chart.panels.emplace_back();
//   p.title = "People waiting";
//   p.series.push_back({"promised", {{0, 1.5}, {5, 2.0}}});
//   std::string text = svg::Render(chart);
#ifndef NOQUEUE_PROTO_BASE_SVG_CHART_H_
#define NOQUEUE_PROTO_BASE_SVG_CHART_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace noqueue::svg {

struct Series {
  std::string name;                               // in the legend; "" for none
  std::vector<std::pair<double, double>> points;  // (x, y), in x order
  bool dashed = false;
  int colour = -1;  // an index in the palette; -1: the series' own index
};

struct Axis {
  std::string title;
  bool log = false;  // logarithmic, in decades (values <= 0 are skipped)
  // The range; unset: the data's (from 0 for a linear y axis).
  std::optional<double> min, max;
  // A tick's text; unset: %g.
  std::function<std::string(double)> label;
  // Ticks of a linear axis (a log axis has one per decade).
  int ticks = 5;
};

struct Panel {
  std::string title;
  Axis x, y;
  std::vector<Series> series;
};

struct Chart {
  std::vector<Panel> panels;
  double panel_width = 440;
  double panel_height = 260;
  std::string note;  // a line under the legend
};

// The chart as a standalone <svg> element (white background, no styles or
// scripts: it can be inlined in a page with a strict content policy).
std::string Render(const Chart& chart);

// `text` with & < > " escaped for XML.
std::string Escape(const std::string& text);

}  // namespace noqueue::svg

#endif  // NOQUEUE_PROTO_BASE_SVG_CHART_H_
