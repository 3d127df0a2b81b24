#include "plot_export.h"

#include <QCoreApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QSvgGenerator>
#include <qcustomplot.h>

namespace mq::ui {

namespace {

bool saveSvg(QCustomPlot* plot, const QString& path, const QString& title)
{
    const QSize size = plot->size();
    if (size.isEmpty())
        return false;
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(size);
    svg.setViewBox(QRect(QPoint(0, 0), size));
    svg.setResolution(96); // so the width and height in mm match the plot's size on a 96 dpi screen
    svg.setTitle(title);
    svg.setDescription(QCoreApplication::translate("mq::ui::PlotExport", "Plot exported by MorphoQuant Workbench %1")
                           .arg(QStringLiteral(PROJECT_VERSION_STRING)));
    QCPPainter painter;
    if (!painter.begin(&svg)) // fails when the file cannot be opened
        return false;
    // As QCustomPlot's own savePdf: vector output, no cached pixmaps of labels.
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    plot->toPainter(&painter, size.width(), size.height());
    return painter.end();
}

} // namespace

bool savePlot(QCustomPlot* plot, const QString& path, const QString& title)
{
    const QFileInfo info(path);
    const QString suffix = info.suffix().toLower();
    const QString name = title.isEmpty() ? info.completeBaseName() : title;
    if (suffix == QLatin1String("png"))
        return plot->savePng(path, 0, 0, 2.0);
    if (suffix == QLatin1String("svg"))
        return saveSvg(plot, path, name);
    if (suffix == QLatin1String("pdf"))
        return plot->savePdf(path, 0, 0, QCP::epAllowCosmetic, QStringLiteral("MorphoQuant Workbench"), name);
    return false;
}

void exportPlotDialog(QCustomPlot* plot, const QString& name, QWidget* parent)
{
    const QString png = QCoreApplication::translate("mq::ui::PlotExport", "PNG image (*.png)");
    const QString svg = QCoreApplication::translate("mq::ui::PlotExport", "SVG image (*.svg)");
    const QString pdf = QCoreApplication::translate("mq::ui::PlotExport", "PDF document (*.pdf)");
    QString selected = png;
    QString path = QFileDialog::getSaveFileName(parent, QCoreApplication::translate("mq::ui::PlotExport", "Export Plot"), name + QStringLiteral(".png"),
                                                png + QStringLiteral(";;") + svg + QStringLiteral(";;") + pdf, &selected);
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += selected == svg ? QStringLiteral(".svg") : selected == pdf ? QStringLiteral(".pdf") : QStringLiteral(".png");
    if (!savePlot(plot, path, name))
        QMessageBox::warning(parent, QCoreApplication::translate("mq::ui::PlotExport", "Export failed"),
                             QCoreApplication::translate("mq::ui::PlotExport", "Could not write %1 (PNG, SVG and PDF are supported).").arg(path));
}

void installExportMenu(QCustomPlot* plot, const QString& name)
{
    plot->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(plot, &QWidget::customContextMenuRequested, plot, [plot, name](const QPoint& pos) {
        QMenu menu(plot);
        menu.addAction(QCoreApplication::translate("mq::ui::PlotExport", "Export Plot..."), plot, [plot, name] { exportPlotDialog(plot, name, plot); });
        menu.addAction(QCoreApplication::translate("mq::ui::PlotExport", "Reset View"), plot, [plot] {
            plot->rescaleAxes();
            plot->replot(QCustomPlot::rpQueuedRefresh);
        });
        menu.exec(plot->mapToGlobal(pos));
    });
}

void placeLegendBelow(QCustomPlot* plot, int columns)
{
    QCPLegend* legend = plot->legend;
    if (QCPLayoutInset* inset = plot->axisRect()->insetLayout(); inset->elements(false).contains(legend))
        inset->take(legend);
    QCPLayoutGrid* layout = plot->plotLayout();
    layout->simplify();
    const int row = layout->rowCount();
    layout->addElement(row, 0, legend);
    if (layout->columnCount() > 1) // (a colour scale beside the plot: the legend spans under both)
        layout->setColumnSpacing(0);
    layout->setRowStretchFactor(row, 0.001);
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    legend->setWrap(columns);
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
    legend->setMargins(QMargins(4, 0, 4, 2));
}

QCPTextElement* addPlotTitle(QCustomPlot* plot)
{
    QCPLayoutGrid* layout = plot->plotLayout();
    layout->insertRow(0);
    auto* title = new QCPTextElement(plot, QString(), QFont(plot->font().family(), 9, QFont::Bold));
    layout->addElement(0, 0, title);
    layout->setRowStretchFactor(0, 0.001);
    return title;
}

QCPColorScale* addViridisScale(QCustomPlot* plot, QCPColorMap* map, int row, const QString& label)
{
    QCPColorGradient gradient;
    gradient.clearColorStops();
    gradient.setColorStopAt(0.0, QColor(68, 1, 84));
    gradient.setColorStopAt(0.125, QColor(71, 44, 122));
    gradient.setColorStopAt(0.25, QColor(59, 81, 139));
    gradient.setColorStopAt(0.375, QColor(44, 113, 142));
    gradient.setColorStopAt(0.5, QColor(33, 144, 141));
    gradient.setColorStopAt(0.625, QColor(39, 173, 129));
    gradient.setColorStopAt(0.75, QColor(92, 200, 99));
    gradient.setColorStopAt(0.875, QColor(170, 220, 50));
    gradient.setColorStopAt(1.0, QColor(253, 231, 37));
    gradient.setColorInterpolation(QCPColorGradient::ciRGB);
    gradient.setNanHandling(QCPColorGradient::nhNanColor);
    gradient.setNanColor(QColor(228, 228, 228));
    auto* scale = new QCPColorScale(plot);
    scale->axis()->setLabel(label);
    plot->plotLayout()->addElement(row, 1, scale);
    map->setColorScale(scale);
    // After setColorScale: the map takes the scale's gradient then (QCustomPlot's default, gpCold,
    // would show), and a gradient set on the map now goes to the scale as well.
    map->setGradient(gradient);
    auto* margins = new QCPMarginGroup(plot);
    plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    return scale;
}

} // namespace mq::ui
