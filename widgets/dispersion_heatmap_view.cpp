#include "dispersion_heatmap_view.h"

#include "calib/channel_stats.h"
#include "display_names.h"
#include "plot_export.h"
#include "session.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QStandardItemModel>
#include <QToolTip>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <cmath>
#include <limits>

namespace mq::ui {

DispersionHeatmapView::DispersionHeatmapView(QWidget* parent) : QWidget(parent)
{
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Dispersion score D_c:"), this));
    m_formBox = new QComboBox(this);
    m_formBox->addItem(tr("code: |max\u2212min| / log(1 + mean|x| + 1e-5)"), int(core::DispersionForm::Code));
    m_formBox->addItem(tr("paper: |max\u2212min| / log(\u2016X_c\u2016\u2081 + eps)"), int(core::DispersionForm::Paper));
    bar->addWidget(m_formBox);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("Tokens:"), this));
    m_modalityBox = new QComboBox(this);
    for (int m = -1; m < core::kNumModalities; ++m)
        m_modalityBox->addItem(modalityLabel(m), m);
    bar->addWidget(m_modalityBox);
    bar->addStretch(1);

    m_plot = new QCustomPlot(this);
    m_plot->setMouseTracking(true);
    m_plot->xAxis->setLabel(tr("input channel"));
    m_plot->yAxis->setLabel(tr("input group"));
    m_plot->yAxis->setRangeReversed(true); // network order top to bottom
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_map->setInterpolate(false);
    QCPColorGradient gradient(QCPColorGradient::gpThermal);
    gradient.setNanHandling(QCPColorGradient::nhTransparent);
    m_map->setGradient(gradient);
    m_scale = new QCPColorScale(m_plot);
    m_scale->axis()->setLabel(tr("D_c (%1)").arg(modalityLabel(-1)));
    m_plot->plotLayout()->addElement(0, 1, m_scale);
    m_map->setColorScale(m_scale);
    auto* group = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    m_highlight = new QCPItemRect(m_plot);
    m_highlight->setPen(QPen(Qt::cyan, 2));
    m_highlight->setBrush(Qt::NoBrush);
    m_highlight->setVisible(false);
    m_channelOutline = new QCPItemRect(m_plot);
    m_channelOutline->setPen(QPen(Qt::white, 1.5, Qt::DashLine));
    m_channelOutline->setBrush(Qt::NoBrush);
    m_channelOutline->setVisible(false);
    installExportMenu(m_plot, QStringLiteral("dispersion_heatmap"));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addLayout(bar);
    layout->addWidget(m_plot, 1);

    connect(m_formBox, &QComboBox::currentIndexChanged, this, [this](int i) {
        setDispersionForm(core::DispersionForm(m_formBox->itemData(i).toInt()));
    });
    connect(m_modalityBox, &QComboBox::currentIndexChanged, this,
            [this](int i) { setModality(m_modalityBox->itemData(i).toInt()); });
    connect(m_plot, &QCustomPlot::mouseMove, this, &DispersionHeatmapView::onMouseMove);
    connect(m_plot, &QCustomPlot::mousePress, this, &DispersionHeatmapView::onMousePress);
    rebuild();
}

void DispersionHeatmapView::setSession(const core::Session* session)
{
    m_session = session;
    // Offer the modalities the calibration saw; fall back to pooled when the current one is gone.
    bool currentAvailable = m_modality < 0;
    for (int m = 0; m < core::kNumModalities; ++m) {
        const bool has = m_session && m_session->calibration.tokens[size_t(m)] > 0;
        if (auto* model = qobject_cast<QStandardItemModel*>(m_modalityBox->model()))
            if (QStandardItem* item = model->item(m + 1))
                item->setEnabled(has);
        currentAvailable = currentAvailable || (m == m_modality && has);
    }
    if (!currentAvailable) {
        m_modality = -1;
        const QSignalBlocker block(m_modalityBox);
        m_modalityBox->setCurrentIndex(0);
    }
    if (m_session && m_session->settings && m_session->settings->dabc.form != m_form) {
        setDispersionForm(m_session->settings->dabc.form);
        return;
    }
    rebuild();
}

void DispersionHeatmapView::setDispersionForm(core::DispersionForm form)
{
    if (form == m_form)
        return;
    m_form = form;
    m_formBox->setCurrentIndex(m_formBox->findData(int(form)));
    rebuild();
    emit dispersionFormChanged(form);
}

void DispersionHeatmapView::setModality(int modality)
{
    if (modality < -1 || modality >= core::kNumModalities || modality == m_modality)
        return;
    m_modality = modality;
    {
        const QSignalBlocker block(m_modalityBox);
        m_modalityBox->setCurrentIndex(m_modalityBox->findData(modality));
    }
    m_scale->axis()->setLabel(tr("D_c (%1)").arg(modalityLabel(modality)));
    rebuild();
}

int DispersionHeatmapView::rowOfGroup(const QString& group) const
{
    if (!m_session)
        return -1;
    const std::string g = group.toStdString();
    for (size_t i = 0; i < m_session->groups.size(); ++i)
        if (m_session->groups[i] == g)
            return int(i);
    return -1;
}

void DispersionHeatmapView::rebuild()
{
    m_map->data()->clear();
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    int rows = 0;
    int64_t width = 0;
    if (m_session) {
        rows = int(m_session->groups.size());
        for (const auto& [g, st] : m_session->stats)
            width = std::max(width, st.pooled.channels);
    }
    if (rows > 0 && width > 0) {
        m_map->data()->setSize(int(width), rows);
        m_map->data()->setRange(QCPRange(0, double(width - 1)), QCPRange(0, double(rows - 1)));
        const double nan = std::numeric_limits<double>::quiet_NaN();
        m_map->data()->fill(nan);
        const int every = std::max(1, rows / 32); // keep tick labels legible on deep models
        for (int r = 0; r < rows; ++r) {
            const std::string& g = m_session->groups[size_t(r)];
            if (r % every == 0)
                ticker->addTick(r, QString::fromStdString(g));
            auto it = m_session->stats.find(g);
            if (it == m_session->stats.end())
                continue;
            const core::ChannelStats& st =
                m_modality < 0 ? it->second.pooled : it->second.perModality[size_t(m_modality)];
            if (st.empty())
                continue;
            const std::vector<double> d = core::dispersionScores(st, m_form);
            for (size_t c = 0; c < d.size(); ++c)
                m_map->data()->setCell(int(c), r, d[c]);
        }
        m_map->rescaleDataRange(true);
        m_plot->xAxis->setRange(-0.5, double(width) - 0.5);
        m_plot->yAxis->setRange(-0.5, double(rows) - 0.5);
    }
    m_plot->yAxis->setTicker(ticker);
    m_plot->yAxis->setTickLabelFont(QFont(font().family(), 7));
    setCurrentGroup(m_currentGroup);
    m_plot->replot(QCustomPlot::rpQueuedRefresh);
}

void DispersionHeatmapView::setCurrentGroup(const QString& group)
{
    m_currentGroup = group;
    const int row = rowOfGroup(group);
    m_highlight->setVisible(row >= 0);
    if (row >= 0) {
        const int width = m_map->data()->keySize();
        m_highlight->topLeft->setCoords(-0.5, row - 0.5);
        m_highlight->bottomRight->setCoords(width - 0.5, row + 0.5);
    }
    const int rows = m_map->data()->valueSize();
    const bool column = m_channel >= 0 && m_channel < m_map->data()->keySize() && rows > 0;
    m_channelOutline->setVisible(column);
    if (column) {
        m_channelOutline->topLeft->setCoords(m_channel - 0.5, -0.5);
        m_channelOutline->bottomRight->setCoords(m_channel + 0.5, rows - 0.5);
    }
    m_plot->replot(QCustomPlot::rpQueuedRefresh);
}

void DispersionHeatmapView::setChannel(int channel)
{
    m_channel = channel;
    setCurrentGroup(m_currentGroup); // redraws both outlines
}

bool DispersionHeatmapView::cellAt(const QPoint& pos, int* row, int* channel) const
{
    if (!m_session || m_map->data()->isEmpty() || !m_plot->axisRect()->rect().contains(pos))
        return false;
    double key = 0, value = 0;
    m_map->pixelsToCoords(pos, key, value);
    int k = 0, v = 0;
    m_map->data()->coordToCell(key, value, &k, &v);
    if (k < 0 || v < 0 || k >= m_map->data()->keySize() || v >= m_map->data()->valueSize())
        return false;
    if (std::isnan(m_map->data()->cell(k, v)))
        return false;
    *row = v;
    *channel = k;
    return true;
}

void DispersionHeatmapView::onMouseMove(QMouseEvent* event)
{
    int row = 0, channel = 0;
    if (!cellAt(event->pos(), &row, &channel)) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(event->globalPosition().toPoint(),
                       tr("group %1\nchannel %2\nD_c = %3")
                           .arg(QString::fromStdString(m_session->groups[size_t(row)]))
                           .arg(channel)
                           .arg(m_map->data()->cell(channel, row), 0, 'g', 5),
                       m_plot);
}

void DispersionHeatmapView::onMousePress(QMouseEvent* event)
{
    int row = 0, channel = 0;
    if (event->button() == Qt::LeftButton && cellAt(event->pos(), &row, &channel))
        emit channelClicked(QString::fromStdString(m_session->groups[size_t(row)]), channel);
}

} // namespace mq::ui
