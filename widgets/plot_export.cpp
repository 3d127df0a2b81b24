#include "plot_export.h"

#include <QCoreApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <qcustomplot.h>

namespace mq::ui {

bool savePlot(QCustomPlot* plot, const QString& path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("png"))
        return plot->savePng(path, 0, 0, 2.0);
    if (suffix == QLatin1String("pdf"))
        return plot->savePdf(path);
    return false;
}

void exportPlotDialog(QCustomPlot* plot, const QString& name, QWidget* parent)
{
    QString selected;
    QString path = QFileDialog::getSaveFileName(parent, QCoreApplication::translate("mq::ui::PlotExport", "Export Plot"), name + QStringLiteral(".png"),
                                                QCoreApplication::translate("mq::ui::PlotExport", "PNG image (*.png);;PDF document (*.pdf)"), &selected);
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += selected.contains(QLatin1String("pdf")) ? QStringLiteral(".pdf") : QStringLiteral(".png");
    if (!savePlot(plot, path))
        QMessageBox::warning(parent, QCoreApplication::translate("mq::ui::PlotExport", "Export failed"),
                             QCoreApplication::translate("mq::ui::PlotExport", "Could not write %1 (PNG and PDF are supported).").arg(path));
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

} // namespace mq::ui
