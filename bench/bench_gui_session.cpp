// The workbench at a model's real size: how long a session takes to open in the main window
// and how long the common interactions take once it is open (switching module, hovering the
// heatmap, zooming it). Runs the real MainWindow on Qt's offscreen platform unless another is
// set; every figure is wall time including the replot the interaction triggers.
// usage: bench_gui_session SESSION.mqs [REPEATS]
#include "dispersion_heatmap_view.h"
#include "main_window.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QMouseEvent>
#include <qcustomplot.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

double maxOf(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }

void settle()
{
    QCoreApplication::processEvents(QEventLoop::AllEvents);
    QCoreApplication::processEvents(QEventLoop::AllEvents);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_gui_session SESSION.mqs [REPEATS]\n");
        return 2;
    }
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const QString path = QString::fromLocal8Bit(argv[1]);
    const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 20;

    mq::ui::MainWindow w;
    w.resize(1600, 1000);
    w.show();
    settle();
    QElapsedTimer t;
    t.start();
    if (!w.openSession(path, true)) {
        std::fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    const double readAndShow = double(t.nsecsElapsed()) / 1e6;
    settle();
    w.repaint();
    const double open = double(t.nsecsElapsed()) / 1e6;
    const mq::core::Session* s = w.session();
    std::printf("session      %s: %zu input groups, %zu modules\n", argv[1], s->groups.size(), s->modules.size());
    std::printf("open         %.0f ms (read + views %.0f ms, then the first paint)\n", open, readAndShow);

    std::vector<double> select, hover, zoom;
    const size_t n = s->groups.size();
    for (int i = 0; i < repeats; ++i) {
        const QString g = QString::fromStdString(s->groups[(size_t(i) * 37 + 5) % n]);
        t.restart();
        w.selectGroup(g);
        settle();
        w.repaint();
        select.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    mq::ui::DispersionHeatmapView* hv = w.heatmapView();
    QCustomPlot* plot = hv->plot();
    const QRect r = plot->axisRect()->rect();
    for (int i = 0; i < repeats; ++i) {
        const QPointF p(r.left() + (r.width() - 1) * ((i * 7919) % 997) / 997.0, r.top() + r.height() * 0.5);
        QMouseEvent ev(QEvent::MouseMove, p, plot->mapToGlobal(p), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
        t.restart();
        QCoreApplication::sendEvent(plot, &ev);
        settle();
        hover.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    const double width = double(hv->colorMap()->data()->keyRange().upper) + 1;
    for (int i = 0; i < repeats; ++i) {
        // zoom in by halves down to a few channels, then back out to everything
        const int level = i % 12;
        const double span = std::max(8.0, width / double(1 << level));
        const double lo = std::min(width - span, (width - span) * 0.37);
        t.restart();
        plot->xAxis->setRange(lo - 0.5, lo + span - 0.5);
        plot->replot();
        settle();
        zoom.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    std::printf("select group median %.1f ms, max %.1f ms (%d times)\n", median(select), maxOf(select), repeats);
    std::printf("heatmap hover median %.1f ms, max %.1f ms\n", median(hover), maxOf(hover));
    std::printf("heatmap zoom median %.1f ms, max %.1f ms (channels per cell at full view: see the widget)\n",
                median(zoom), maxOf(zoom));
    return 0;
}
