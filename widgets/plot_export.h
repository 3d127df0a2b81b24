#pragma once
// Saving a plot to a file, and the context menu that offers it: PNG (raster, twice the on-screen
// resolution), SVG and PDF (vector; SVG through QSvgGenerator, as QCustomPlot has no SVG writer of
// its own).
#include <QString>

class QCustomPlot;
class QCPTextElement;
class QCPColorMap;
class QCPColorScale;
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
// Moves the plot's legend out of the data area into a row of its own under the plots, its
// entries side by side (legends on the data hid histogram peaks and thresholds).
void placeLegendBelow(QCustomPlot* plot, int columns = 3);
// A title row above the plots (returns the element, to set its text as the view changes).
QCPTextElement* addPlotTitle(QCustomPlot* plot);
// A colour scale for `map` in column 1 of layout row `row`, labelled `label`, its margins tied to
// the axis rect's, with a perceptual gradient (viridis: dark purple -> blue -> green -> yellow,
// lightness rising evenly) and NaN cells in light grey, a colour the map never takes (no data,
// not a low value).
QCPColorScale* addViridisScale(QCustomPlot* plot, QCPColorMap* map, int row, const QString& label);

} // namespace mq::ui
