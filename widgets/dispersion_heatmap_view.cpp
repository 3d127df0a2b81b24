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
#include <QResizeEvent>
#include <QToolTip>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mq::ui {

DispersionHeatmapView::DispersionHeatmapView(QWidget* parent) : QWidget(parent)
{
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Dispersion score D<sub>c</sub>:"), this));
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
    // Viridis, and the cells past a narrower group's channels in light grey (NaN), a colour the
    // map never takes, so that padding cannot be read as a low score.
    m_scale = addViridisScale(m_plot, m_map, 0, tr("D_c (%1)").arg(modalityLabel(-1)));
    m_highlight = new QCPItemRect(m_plot);
    m_highlight->setPen(QPen(Qt::cyan, 2));
    m_highlight->setBrush(Qt::NoBrush);
    m_highlight->setVisible(false);
    m_marks = new QCPGraph(m_plot->xAxis, m_plot->yAxis);
    m_marks->setLineStyle(QCPGraph::lsNone);
    m_marks->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, QPen(QColor(255, 0, 180), 2), Qt::NoBrush, 9));
    m_marks->setName(tr("mask differs"));
    m_channelOutline = new QCPItemRect(m_plot);
    m_channelOutline->setPen(QPen(Qt::white, 1.5, Qt::DashLine));
    m_channelOutline->setBrush(Qt::NoBrush);
    m_channelOutline->setVisible(false);
    installExportMenu(m_plot, QStringLiteral("dispersion_heatmap"));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addLayout(bar);
    layout->addWidget(m_plot, 1);

    connect(m_formBox, &QComboBox::currentIndexChanged, this, [this](int i) { // a person's choice
        const auto form = core::DispersionForm(m_formBox->itemData(i).toInt());
        setDispersionForm(form);
        emit dispersionFormChosen(form);
    });
    connect(m_modalityBox, &QComboBox::currentIndexChanged, this,
            [this](int i) { setModality(m_modalityBox->itemData(i).toInt()); });
    connect(m_plot, &QCustomPlot::mouseMove, this, &DispersionHeatmapView::onMouseMove);
    connect(m_plot, &QCustomPlot::mousePress, this, &DispersionHeatmapView::onMousePress);
    connect(m_plot->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this](const QCPRange&) {
        if (!m_refreshing)
            refreshCells();
    });
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
    {
        const QSignalBlocker block(m_formBox); // not a person's choice
        m_formBox->setCurrentIndex(m_formBox->findData(int(form)));
    }
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
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    m_scores.clear();
    m_width = 0;
    const int rows = m_session ? int(m_session->groups.size()) : 0;
    for (int r = 0; r < rows; ++r) {
        const std::string& g = m_session->groups[size_t(r)];
        auto it = m_session->stats.find(g);
        std::vector<double> d;
        if (it != m_session->stats.end()) {
            m_width = std::max(m_width, int(it->second.pooled.channels));
            const core::ChannelStats& st =
                m_modality < 0 ? it->second.pooled : it->second.perModality[size_t(m_modality)];
            if (!st.empty())
                d = core::dispersionScores(st, m_form);
        }
        m_scores.push_back(std::move(d));
    }
    const int every = std::max(1, rows / 32); // keep tick labels legible on deep models
    for (int r = 0; r < rows; r += every)
        ticker->addTick(r, QString::fromStdString(m_session->groups[size_t(r)]));
    m_plot->yAxis->setTicker(ticker);
    m_plot->yAxis->setTickLabelFont(QFont(font().family(), 7));
    {
        m_refreshing = true; // one refresh below, not one per axis change
        if (rows > 0 && m_width > 0) {
            m_plot->xAxis->setRange(-0.5, double(m_width) - 0.5);
            m_plot->yAxis->setRange(-0.5, double(rows) - 0.5);
        }
        m_refreshing = false;
    }
    refreshCells();
    // The colour scale spans every score at full resolution (not only the drawn cells), and stays
    // put while zooming.
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const std::vector<double>& d : m_scores)
        for (double v : d)
            if (!std::isnan(v)) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
    if (lo <= hi)
        m_map->setDataRange(QCPRange(lo, hi > lo ? hi : lo + 1e-12));
    setCurrentGroup(m_currentGroup);
    placeMarks();
}

void DispersionHeatmapView::setMarkedChannels(const std::map<std::string, std::vector<int>>& marks)
{
    m_markedByGroup = marks;
    placeMarks();
}

int DispersionHeatmapView::markedCount() const
{
    return m_marks->dataCount();
}

void DispersionHeatmapView::placeMarks()
{
    QVector<double> x, y;
    for (const auto& [g, channels] : m_markedByGroup) {
        const int row = rowOfGroup(QString::fromStdString(g));
        if (row < 0)
            continue;
        for (int c : channels) {
            x << double(c);
            y << double(row);
        }
    }
    m_marks->setData(x, y); // (keys not sorted across groups)
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

double DispersionHeatmapView::score(int row, int channel) const
{
    if (row < 0 || row >= int(m_scores.size()) || channel < 0 || channel >= int(m_scores[size_t(row)].size()))
        return std::numeric_limits<double>::quiet_NaN();
    return m_scores[size_t(row)][size_t(channel)];
}

void DispersionHeatmapView::refreshCells()
{
    QCPColorMapData* data = m_map->data();
    const int rows = int(m_scores.size());
    if (rows == 0 || m_width == 0) {
        data->clear();
        m_step = 1;
        m_first = 0;
        m_plot->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    // The channels to draw: every one when the whole map is small, else the visible range.
    int first = 0, last = m_width - 1;
    int step = 1;
    if (int64_t(m_width) * rows > m_fullCells) {
        const QCPRange x = m_plot->xAxis->range();
        first = std::clamp(int(std::floor(x.lower + 0.5)), 0, m_width - 1);
        last = std::clamp(int(std::ceil(x.upper - 0.5)), first, m_width - 1);
        // the plot's width bounds its axis rect's (which is only laid out at the next replot)
        const int columns = std::max(64, m_plot->width());
        const int n = last - first + 1;
        step = std::max(1, (n + columns - 1) / columns);
    }
    const int cells = (last - first) / step + 1;
    m_step = step;
    m_first = first;
    data->setSize(cells, rows);
    // Cell i covers channels first + i*step .. +step-1; its centre sits in the middle of them.
    const double half = (step - 1) / 2.0;
    data->setRange(QCPRange(first + half, first + (cells - 1) * double(step) + half), QCPRange(0, double(rows - 1)));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int r = 0; r < rows; ++r) {
        const std::vector<double>& d = m_scores[size_t(r)];
        for (int i = 0; i < cells; ++i) {
            const int c0 = first + i * step, c1 = std::min(c0 + step, int(d.size()));
            double v = nan;
            for (int c = c0; c < c1; ++c) // the max of the run: an outlier channel stays visible
                if (!std::isnan(d[size_t(c)]) && (std::isnan(v) || d[size_t(c)] > v))
                    v = d[size_t(c)];
            data->setCell(i, r, v);
        }
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void DispersionHeatmapView::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    if (int64_t(m_width) * int64_t(m_scores.size()) > m_fullCells)
        refreshCells(); // the bins follow the plot's width
}

void DispersionHeatmapView::setCurrentGroup(const QString& group)
{
    m_currentGroup = group;
    const int row = rowOfGroup(group);
    m_highlight->setVisible(row >= 0);
    if (row >= 0) {
        m_highlight->topLeft->setCoords(-0.5, row - 0.5);
        m_highlight->bottomRight->setCoords(m_width - 0.5, row + 0.5);
    }
    const int rows = int(m_scores.size());
    const bool column = m_channel >= 0 && m_channel < m_width && rows > 0;
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
    if (!m_session || m_scores.empty() || !m_plot->axisRect()->rect().contains(pos))
        return false;
    // From pixel to channel directly: a cell may hold several channels.
    const int c = int(std::floor(m_plot->xAxis->pixelToCoord(pos.x()) + 0.5));
    const int r = int(std::floor(m_plot->yAxis->pixelToCoord(pos.y()) + 0.5));
    if (std::isnan(score(r, c)))
        return false;
    *row = r;
    *channel = c;
    return true;
}

void DispersionHeatmapView::onMouseMove(QMouseEvent* event)
{
    int row = 0, channel = 0;
    if (!cellAt(event->pos(), &row, &channel)) {
        QToolTip::hideText();
        return;
    }
    QString text = tr("group %1\nchannel %2\nD_c = %3")
                       .arg(QString::fromStdString(m_session->groups[size_t(row)]))
                       .arg(channel)
                       .arg(score(row, channel), 0, 'g', 5);
    if (m_step > 1)
        text += tr("\n(each column shows the largest D_c of %1 channels; zoom in to see each one)").arg(m_step);
    QToolTip::showText(event->globalPosition().toPoint(), text, m_plot);
}

void DispersionHeatmapView::onMousePress(QMouseEvent* event)
{
    int row = 0, channel = 0;
    if (event->button() == Qt::LeftButton && cellAt(event->pos(), &row, &channel))
        emit channelClicked(QString::fromStdString(m_session->groups[size_t(row)]), channel);
}

} // namespace mq::ui
