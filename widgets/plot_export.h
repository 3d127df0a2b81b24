#pragma once
// Saving a plot to a file, and the context menu that offers it: PNG (raster, twice the on-screen
// resolution), SVG and PDF (vector; SVG through QSvgGenerator, as QCustomPlot has no SVG writer of
// its own).
#include <QString>

class QCustomPlot;
class QWidget;

namespace mq::ui {

// Writes `plot` to `path` at the plot's current size; the format follows the suffix (.png, .svg or
// .pdf, any case). `title` goes into the SVG and PDF metadata (default: the file's base name).
// Returns false for an unknown suffix or a failed write.
bool savePlot(QCustomPlot* plot, const QString& path, const QString& title = {});
// Asks for a file name and saves; shows a dialog on failure. `name` is the default base name.
void exportPlotDialog(QCustomPlot* plot, const QString& name, QWidget* parent);
// Gives `plot` a right-click menu with "Export...".
void installExportMenu(QCustomPlot* plot, const QString& name);

} // namespace mq::ui
