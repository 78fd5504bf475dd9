#include "proto/base/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace noqueue::svg {

namespace {

constexpr const char* kPalette[] = {"#1b9e77", "#d95f02", "#7570b3", "#e7298a",
                                    "#66a61e", "#e6ab02", "#a6761d", "#666666"};
constexpr double kLeft = 60, kRight = 20, kTop = 30, kBottom = 40;

struct Scale {
  double lo = 0, hi = 1;
  bool log = false;
  // 0..1 along the axis.
  double At(double v) const {
    if (log)
      return (std::log10(v) - std::log10(lo)) /
             (std::log10(hi) - std::log10(lo));
    return (v - lo) / (hi - lo);
  }
};

Scale ScaleOf(const Axis& axis, const Panel& panel, bool is_x) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Series& s : panel.series) {
    for (const auto& [x, y] : s.points) {
      const double v = is_x ? x : y;
      if (!std::isfinite(v) || (axis.log && v <= 0)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!std::isfinite(lo)) lo = hi = axis.log ? 1 : 0;
  if (!is_x && !axis.log) lo = std::min(lo, 0.0);
  Scale s;
  s.log = axis.log;
  s.lo = axis.min.value_or(lo);
  s.hi = axis.max.value_or(hi);
  if (s.log) {
    s.lo = std::pow(10, std::floor(std::log10(std::max(s.lo, 1e-300))));
    s.hi = std::pow(10, std::ceil(std::log10(std::max(s.hi, 1e-300))));
    if (s.hi <= s.lo) s.hi = s.lo * 10;
  } else if (s.hi <= s.lo) {
    s.hi = s.lo + 1;
  }
  return s;
}

std::vector<double> Ticks(const Scale& s, int n) {
  std::vector<double> ticks;
  if (s.log) {
    for (double v = s.lo; v <= s.hi * 1.001; v *= 10) ticks.push_back(v);
    return ticks;
  }
  n = std::max(n, 1);
  for (int i = 0; i <= n; ++i) ticks.push_back(s.lo + (s.hi - s.lo) * i / n);
  return ticks;
}

std::string Label(const Axis& axis, double v) {
  return axis.label ? axis.label(v) : absl::StrFormat("%g", v);
}

}  // namespace

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        // XML 1.0 has no control characters but tab, newline and return:
        // one would make the whole chart unreadable.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' &&
            c != '\r') {
          out.push_back(' ');
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string Render(const Chart& chart) {
  const double pw = chart.panel_width, ph = chart.panel_height;
  const double cell = kLeft + pw + kRight;
  std::vector<std::pair<std::string, std::pair<int, bool>>> legend;
  for (const Panel& p : chart.panels) {
    for (size_t i = 0; i < p.series.size(); ++i) {
      const Series& s = p.series[i];
      const int colour = s.colour >= 0 ? s.colour : static_cast<int>(i);
      if (s.name.empty() ||
          std::any_of(legend.begin(), legend.end(),
                      [&](const auto& e) { return e.first == s.name; })) {
        continue;
      }
      legend.push_back({s.name, {colour, s.dashed}});
    }
  }
  const int per_row =
      std::max(1, static_cast<int>(cell * chart.panels.size() / 220));
  const int legend_rows =
      (static_cast<int>(legend.size()) + per_row - 1) / per_row;
  const double width = std::max<double>(1, chart.panels.size()) * cell;
  const double height =
      kTop + ph + kBottom + 18 * legend_rows + (chart.note.empty() ? 8 : 26);
  std::string out = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
      "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
      "font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" "
      "fill=\"white\"/>\n",
      width, height, width, height);
  for (size_t k = 0; k < chart.panels.size(); ++k) {
    const Panel& p = chart.panels[k];
    const double x0 = k * cell + kLeft, y0 = kTop;
    const Scale sx = ScaleOf(p.x, p, true), sy = ScaleOf(p.y, p, false);
    auto X = [&](double v) { return x0 + pw * sx.At(v); };
    auto Y = [&](double v) { return y0 + ph - ph * sy.At(v); };
    absl::StrAppendFormat(
        &out,
        "<text x=\"%.1f\" y=\"18\" font-size=\"13\">%s</text>\n"
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
        "fill=\"none\" stroke=\"#999\"/>\n",
        x0, Escape(p.title), x0, y0, pw, ph);
    for (double v : Ticks(sy, p.y.ticks)) {
      absl::StrAppendFormat(
          &out,
          "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
          "stroke=\"#eee\"/><text x=\"%.1f\" y=\"%.1f\" "
          "text-anchor=\"end\">%s</text>\n",
          x0, x0 + pw, Y(v), Y(v), x0 - 4, Y(v) + 4, Escape(Label(p.y, v)));
    }
    for (double v : Ticks(sx, p.x.ticks)) {
      absl::StrAppendFormat(&out,
                            "<text x=\"%.1f\" y=\"%.1f\" "
                            "text-anchor=\"middle\">%s</text>\n",
                            X(v), y0 + ph + 14, Escape(Label(p.x, v)));
    }
    if (!p.x.title.empty()) {
      absl::StrAppendFormat(
          &out,
          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
          x0 + pw / 2, y0 + ph + 30, Escape(p.x.title));
    }
    if (!p.y.title.empty()) {
      absl::StrAppendFormat(&out,
                            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                            "transform=\"rotate(-90 %.1f %.1f)\">%s</text>\n",
                            x0 - 40, y0, x0 - 40, y0, Escape(p.y.title));
    }
    for (size_t i = 0; i < p.series.size(); ++i) {
      const Series& s = p.series[i];
      std::string path;
      for (const auto& [x, y] : s.points) {
        if (!std::isfinite(x) || !std::isfinite(y) || (sx.log && x <= 0) ||
            (sy.log && y <= 0)) {
          continue;
        }
        absl::StrAppendFormat(&path, "%s%.1f,%.1f ", path.empty() ? "M" : "L",
                              X(x), Y(y));
      }
      if (path.empty()) continue;
      const int colour = s.colour >= 0 ? s.colour : static_cast<int>(i);
      absl::StrAppendFormat(
          &out,
          "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
          path, kPalette[colour % 8],
          s.dashed ? " stroke-dasharray=\"5,4\"" : "");
    }
  }
  const double ly = kTop + ph + kBottom + 6;
  for (size_t i = 0; i < legend.size(); ++i) {
    const double x = kLeft + (i % per_row) * 220, y = ly + (i / per_row) * 18;
    const auto& [name, style] = legend[i];
    absl::StrAppendFormat(
        &out,
        "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" "
        "stroke-width=\"3\"%s/><text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
        x, x + 24, y, y, kPalette[style.first % 8],
        style.second ? " stroke-dasharray=\"5,4\"" : "", x + 30, y + 4,
        Escape(name));
  }
  if (!chart.note.empty()) {
    absl::StrAppendFormat(&out, "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                          kLeft, ly + 18 * legend_rows + 8, Escape(chart.note));
  }
  out += "</svg>\n";
  return out;
}

}  // namespace noqueue::svg
