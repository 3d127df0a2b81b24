#pragma once
// Saving a plot to a file, and the context menu that offers it. PNG and PDF only: this build has
// no Qt6::Svg, so there is no SVG export.
#include <QString>

class QCustomPlot;
class QWidget;

namespace mq::ui {

// Writes `plot` to `path`; the format follows the suffix (.png or .pdf). Returns false for an
// unknown suffix or a failed write.
bool savePlot(QCustomPlot* plot, const QString& path);
// Asks for a file name and saves; shows a dialog on failure. `name` is the default base name.
void exportPlotDialog(QCustomPlot* plot, const QString& name, QWidget* parent);
// Gives `plot` a right-click menu with "Export...".
void installExportMenu(QCustomPlot* plot, const QString& name);

} // namespace mq::ui
