#include "outlier_view.h"

#include "display_names.h"

#include "calib/channel_stats.h"
#include "plot_export.h"
#include "session.h"

#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace mq::ui {

namespace {
const QColor kModalityColors[core::kNumModalities] = {QColor(31, 119, 180), QColor(255, 127, 14),
                                                       QColor(44, 160, 44), QColor(214, 39, 40)};
constexpr int kBins = 30;

} // namespace

OutlierView::OutlierView(QWidget* parent) : QWidget(parent)
{
    m_plot = new QCustomPlot(this);
    m_plot->xAxis->setScaleType(QCPAxis::stLogarithmic);
    m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    m_plot->xAxis->setNumberFormat(QStringLiteral("g"));
    m_plot->xAxis->setNumberPrecision(3);
    m_plot->yAxis->setLabel(tr("channels"));
    // The box/whisker summary below the histogram, on the same (log) x range.
    m_boxRect = new QCPAxisRect(m_plot);
    m_plot->plotLayout()->addElement(1, 0, m_boxRect);
    m_plot->plotLayout()->setRowStretchFactor(1, 0.35);
    m_plot->plotLayout()->setRowSpacing(0);
    QCPAxis* boxX = m_boxRect->axis(QCPAxis::atBottom);
    boxX->setScaleType(QCPAxis::stLogarithmic);
    boxX->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    boxX->setNumberFormat(QStringLiteral("g"));
    boxX->setNumberPrecision(3);
    boxX->setLabel(tr("per-channel max|x|"));
    m_plot->xAxis->setTickLabels(false);
    connect(m_plot->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), boxX,
            qOverload<const QCPRange&>(&QCPAxis::setRange));
    auto* margins = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    m_boxRect->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    m_boxRect->setRangeDrag(Qt::Horizontal);
    m_boxRect->setRangeZoom(Qt::Horizontal);
    m_plot->legend->setVisible(true);
    m_plot->legend->setFont(QFont(font().family(), 8));
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    placeLegendBelow(m_plot, 2); // a narrow dock: two entries a row
    installExportMenu(m_plot, QStringLiteral("outliers"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_plot);
    rebuild();
}

void OutlierView::setSession(const core::Session* session)
{
    m_session = session;
    m_channel = -1;
    rebuild();
}

void OutlierView::setGroup(const QString& group)
{
    m_group = group;
    m_channel = -1;
    rebuild();
}

void OutlierView::setChannel(int channel)
{
    m_channel = channel;
    rebuild();
}

std::vector<double> OutlierView::alphaLines() const
{
    std::vector<double> x;
    for (const QCPGraph* l : m_lines)
        x.push_back(l->data()->begin()->key);
    return x;
}

void OutlierView::rebuild()
{
    m_plot->clearPlottables(); // histograms, alpha lines and boxes
    m_graphs.clear();
    m_lines.clear();
    m_boxes.clear();
    QCPAxis* boxY = m_boxRect->axis(QCPAxis::atLeft);
    QCPAxis* boxX = m_boxRect->axis(QCPAxis::atBottom);
    auto boxTicks = QSharedPointer<QCPAxisTickerText>::create();
    boxY->setTicker(boxTicks); // filled below, one label per modality

    const std::string g = m_group.toStdString();
    const core::InputStats* stats = nullptr;
    if (m_session)
        if (auto it = m_session->stats.find(g); it != m_session->stats.end())
            stats = &it->second;
    const core::GroupPlan* plan = nullptr;
    if (m_session)
        if (auto it = m_session->plans.find(g); it != m_session->plans.end())
            plan = &it->second;
    if (!stats) {
        m_plot->replot(QCustomPlot::rpQueuedRefresh);
        return;
    }

    // Common log-spaced bins over every modality's positive max|x| so the histograms compare.
    double lo = INFINITY, hi = 0;
    for (int m = 0; m < core::kNumModalities; ++m) {
        const core::ChannelStats& s = stats->perModality[size_t(m)];
        for (int64_t c = 0; c < s.channels && !s.empty(); ++c) {
            const double a = s.absMax(c);
            if (a > 0) {
                lo = std::min(lo, a);
                hi = std::max(hi, a);
            }
        }
    }
    if (!(hi > 0)) {
        m_plot->replot(QCustomPlot::rpQueuedRefresh);
        return;
    }
    lo /= 1.05;
    hi *= 1.05;
    const double step = std::log(hi / lo) / kBins;
    auto edge = [&](int b) { return lo * std::exp(step * b); };

    double top = 0;
    for (int m = 0; m < core::kNumModalities; ++m) {
        const core::ChannelStats& s = stats->perModality[size_t(m)];
        if (s.empty())
            continue;
        std::vector<double> counts(kBins, 0.0);
        for (int64_t c = 0; c < s.channels; ++c) {
            const double a = std::max(s.absMax(c), lo); // zero channels land in the first bin
            const int b = std::clamp(int(std::log(a / lo) / step), 0, kBins - 1);
            counts[size_t(b)] += 1;
        }
        QVector<double> keys, values;
        for (int b = 0; b < kBins; ++b) {
            keys << edge(b);
            values << counts[size_t(b)];
            top = std::max(top, counts[size_t(b)]);
        }
        keys << edge(kBins);
        values << 0.0; // closes the last step
        QCPGraph* graph = m_plot->addGraph();
        graph->setData(keys, values, true);
        graph->setLineStyle(QCPGraph::lsStepLeft);
        QColor color = kModalityColors[m];
        graph->setPen(QPen(color, 1.5));
        color.setAlpha(50);
        graph->setBrush(color);
        graph->setName(tr("%1 (%2 tokens)").arg(modalityLabel(m)).arg(s.count));
        m_graphs.push_back(graph);

        // Horizontal box: the key axis is the box rect's vertical axis, one key per modality.
        std::vector<double> sample;
        sample.reserve(size_t(s.channels));
        for (int64_t c = 0; c < s.channels; ++c)
            sample.push_back(std::max(s.absMax(c), lo));
        const core::BoxSummary f = core::boxSummary(std::move(sample));
        auto* box = new QCPStatisticalBox(boxY, boxX);
        const double key = double(m_boxes.size());
        box->addData(key, f.lowerWhisker, f.q1, f.median, f.q3, f.upperWhisker,
                     QVector<double>(f.outliers.begin(), f.outliers.end()));
        box->setWidth(0.6);
        QColor fill = kModalityColors[m];
        box->setPen(QPen(fill.darker(130), 1.2));
        box->setMedianPen(QPen(fill.darker(160), 2.0));
        fill.setAlpha(90);
        box->setBrush(fill);
        box->setOutlierStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, kModalityColors[m], 4));
        box->setName(modalityLabel(m));
        box->removeFromLegend();
        boxTicks->addTick(key, modalityLabel(m));
        m_boxes.push_back(box);
    }
    boxY->setRange(-0.6, std::max(0.6, double(m_boxes.size()) - 0.4));
    boxY->setRangeReversed(true); // text on top, as in the legend

    // Clipping bounds of the plan: summary over channels, or the selected channel's.
    std::vector<std::pair<double, QString>> lines;
    const std::vector<float>* alpha = plan && !plan->alpha.empty() ? &plan->alpha
                                      : plan && !plan->alpha0.empty() ? &plan->alpha0 : nullptr;
    const bool tuned = plan && !plan->alpha.empty();
    if (alpha && m_channel >= 0 && size_t(m_channel) < alpha->size()) {
        if (!plan->alpha0.empty())
            lines.emplace_back(plan->alpha0[size_t(m_channel)], tr("\u03b1\u2080[%1]").arg(m_channel));
        if (tuned)
            lines.emplace_back((*alpha)[size_t(m_channel)], tr("\u03b1[%1]").arg(m_channel));
    } else if (alpha) {
        std::vector<float> sorted(*alpha);
        std::sort(sorted.begin(), sorted.end());
        const QString name = tuned ? QStringLiteral("\u03b1") : QStringLiteral("\u03b1\u2080");
        lines.emplace_back(sorted.front(), tr("min %1").arg(name));
        lines.emplace_back(sorted[sorted.size() / 2], tr("median %1").arg(name));
        lines.emplace_back(sorted.back(), tr("max %1").arg(name));
    }
    // Vertical lines as two-point graphs so the legend names them with their values.
    const Qt::PenStyle styles[] = {Qt::DashLine, Qt::SolidLine, Qt::DotLine};
    const double lineTop = std::max(1.0, top * 1.35);
    for (size_t i = 0; i < lines.size(); ++i) {
        const double x = std::max(lines[i].first, 1e-30);
        QCPGraph* line = m_plot->addGraph();
        line->setData(QVector<double>{x, x}, QVector<double>{0.0, lineTop}, true);
        line->setPen(QPen(Qt::black, 1.2, styles[i % 3]));
        line->setName(QStringLiteral("%1 = %2").arg(lines[i].second).arg(lines[i].first, 0, 'g', 4));
        m_lines.push_back(line);
        lo = std::min(lo, x / 1.2);
        hi = std::max(hi, x * 1.2);
    }
    m_plot->xAxis->setRange(lo, hi);
    m_plot->yAxis->setRange(0, std::max(1.0, top * 1.35));
    m_plot->replot(QCustomPlot::rpQueuedRefresh);
}

} // namespace mq::ui
