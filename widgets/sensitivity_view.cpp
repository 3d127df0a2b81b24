#include "sensitivity_view.h"

#include "display_names.h"
#include "plot_export.h"
#include "session.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace mq::ui {

SensitivityView::SensitivityView(QWidget* parent) : QWidget(parent)
{
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Cell:"), this));
    m_statBox = new QComboBox(this);
    m_statBox->addItem(tr("lowest SQNR of the layer's modules"), int(Lowest));
    m_statBox->addItem(tr("mean SQNR of the layer's modules"), int(Mean));
    bar->addWidget(m_statBox);
    bar->addStretch(1);
    connect(m_statBox, &QComboBox::currentIndexChanged, this,
            [this](int i) { setStatistic(Statistic(m_statBox->itemData(i).toInt())); });

    m_plot = new QCustomPlot(this);
    m_title = addPlotTitle(m_plot);
    m_plot->xAxis->setLabel(tr("tokens"));
    m_plot->yAxis->setLabel(tr("layer"));
    m_plot->yAxis->setRangeReversed(true); // layer 0 on top, as the module tree
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_map->setInterpolate(false);
    // low SQNR (sensitive) dark, high light; row 1: the title is row 0
    m_scale = addViridisScale(m_plot, m_map, 1, tr("SQNR (dB)"));
    m_rowMark = new QCPItemRect(m_plot);
    m_rowMark->setPen(QPen(Qt::cyan, 2));
    m_rowMark->setBrush(Qt::NoBrush);
    m_rowMark->setVisible(false);
    installExportMenu(m_plot, QStringLiteral("sensitivity"));
    connect(m_plot, &QCustomPlot::mousePress, this, &SensitivityView::onClick);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addLayout(bar);
    layout->addWidget(m_plot, 1);
    rebuild();
}

void SensitivityView::setSession(const core::Session* session)
{
    m_session = session;
    rebuild();
}

void SensitivityView::refresh()
{
    rebuild();
}

void SensitivityView::setStatistic(Statistic s)
{
    if (s == m_statistic)
        return;
    m_statistic = s;
    {
        const QSignalBlocker block(m_statBox);
        m_statBox->setCurrentIndex(m_statBox->findData(int(s)));
    }
    rebuild();
}

void SensitivityView::setCurrentGroup(const QString& group)
{
    m_group = group;
    rebuild();
}

double SensitivityView::value(int row, int column) const
{
    if (row < 0 || column < 0 || row >= int(m_layers.size()) || column >= int(m_columns.size()))
        return std::numeric_limits<double>::quiet_NaN();
    return m_cells[size_t(row) * m_columns.size() + size_t(column)].value;
}

QString SensitivityView::moduleAt(int row, int column) const
{
    if (std::isnan(value(row, column)))
        return {};
    return m_cells[size_t(row) * m_columns.size() + size_t(column)].module;
}

QString SensitivityView::groupAt(int row, int column) const
{
    if (std::isnan(value(row, column)))
        return {};
    return m_cells[size_t(row) * m_columns.size() + size_t(column)].group;
}

QString SensitivityView::title() const
{
    return m_title->text();
}

void SensitivityView::rebuild()
{
    m_layers.clear();
    m_columns.clear();
    m_cells.clear();
    // Per (layer, column): the modules' SQNR values, the worst module.
    struct Acc {
        double sum = 0.0, lowest = std::numeric_limits<double>::infinity();
        int n = 0;
        QString module, group;
    };
    std::map<std::pair<int, int>, Acc> acc;
    std::set<int> layers; // of every module with an error, in order
    std::vector<bool> present(core::kNumModalities, false);
    if (m_session) {
        for (const core::ModuleError& e : m_session->errors) {
            const core::ModuleInfo* m = m_session->findModule(e.module);
            if (!m || m->layer < 0)
                continue;
            for (int c = -1; c < core::kNumModalities; ++c) {
                const core::ErrorStat& s = c < 0 ? e.pooled : e.perModality[size_t(c)];
                if (s.tokens <= 0 || !std::isfinite(s.sqnrDb))
                    continue;
                if (c >= 0)
                    present[size_t(c)] = true;
                Acc& a = acc[{m->layer, c}];
                a.sum += s.sqnrDb;
                ++a.n;
                if (s.sqnrDb < a.lowest) {
                    a.lowest = s.sqnrDb;
                    a.module = QString::fromStdString(e.module);
                    a.group = QString::fromStdString(m->inputGroup);
                }
            }
            layers.insert(m->layer);
        }
    }
    m_layers.assign(layers.begin(), layers.end());
    m_columns.push_back(-1);
    // One modality alone would repeat the pooled column: per-modality columns from two on.
    if (std::count(present.begin(), present.end(), true) > 1)
        for (int c = 0; c < core::kNumModalities; ++c)
            if (present[size_t(c)])
                m_columns.push_back(c);
    const int rows = int(m_layers.size()), cols = int(m_columns.size());
    m_cells.resize(size_t(rows) * size_t(cols), Cell{std::numeric_limits<double>::quiet_NaN(), {}, {}});
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) {
            auto it = acc.find({m_layers[size_t(r)], m_columns[size_t(c)]});
            if (it == acc.end() || it->second.n == 0)
                continue;
            Cell& cell = m_cells[size_t(r) * size_t(cols) + size_t(c)];
            cell.value = m_statistic == Lowest ? it->second.lowest : it->second.sum / it->second.n;
            cell.module = it->second.module;
            cell.group = it->second.group;
        }

    // The map: one cell per (layer, column), centred on integer coordinates.
    m_map->data()->setSize(std::max(1, cols), std::max(1, rows));
    // Cell centres at 0 .. n-1; a single cell gets the extent of one (QCustomPlot takes a
    // one-cell map's range as its extent: 0 .. 0 would draw nothing).
    auto span = [](int n) { return n > 1 ? QCPRange(0, n - 1) : QCPRange(-0.5, 0.5); };
    m_map->data()->setRange(span(cols), span(rows));
    m_map->data()->fill(std::numeric_limits<double>::quiet_NaN());
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
            m_map->data()->setCell(c, r, m_cells[size_t(r) * size_t(cols) + size_t(c)].value);
    m_map->setVisible(rows > 0);
    if (rows > 0)
        m_map->rescaleDataRange(true);
    QSharedPointer<QCPAxisTickerText> xt(new QCPAxisTickerText);
    for (int c = 0; c < cols; ++c)
        xt->addTick(c, modalityLabel(m_columns[size_t(c)]));
    m_plot->xAxis->setTicker(xt);
    m_plot->xAxis->setRange(-0.5, std::max(0.5, cols - 0.5));
    QSharedPointer<QCPAxisTickerText> yt(new QCPAxisTickerText);
    const int every = std::max(1, rows / 16); // at most ~16 labels
    for (int r = 0; r < rows; r += every)
        yt->addTick(r, QString::number(m_layers[size_t(r)]));
    m_plot->yAxis->setTicker(yt);
    m_plot->yAxis->setRange(-0.5, std::max(0.5, rows - 0.5));

    // The current group's layer.
    int markRow = -1;
    if (m_session && !m_group.isEmpty())
        for (const core::ModuleInfo& m : m_session->modules)
            if (QString::fromStdString(m.inputGroup) == m_group) {
                auto it = std::find(m_layers.begin(), m_layers.end(), m.layer);
                if (it != m_layers.end())
                    markRow = int(it - m_layers.begin());
                break;
            }
    // The figure in each cell while they are few enough to read.
    for (QCPItemText* t : m_labels)
        m_plot->removeItem(t);
    m_labels.clear();
    if (rows * cols <= 160)
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; ++c) {
                const double v = value(r, c);
                if (std::isnan(v))
                    continue;
                auto* t = new QCPItemText(m_plot);
                t->position->setCoords(c, r);
                t->setText(QString::number(v, 'f', 1));
                t->setFont(QFont(font().family(), 8));
                // dark cells get light text (the map is dark below ~40% of its range)
                const QCPRange range = m_map->dataRange();
                const bool dark = range.size() > 0 ? (v - range.lower) / range.size() < 0.45 : false;
                t->setColor(dark ? Qt::white : Qt::black);
                t->setClipToAxisRect(true);
                m_labels.push_back(t);
            }
    m_rowMark->setVisible(markRow >= 0);
    if (markRow >= 0) {
        m_rowMark->topLeft->setCoords(-0.5, markRow - 0.5);
        m_rowMark->bottomRight->setCoords(cols - 0.5, markRow + 0.5);
    }

    const bool stale = m_session && !m_session->errors.empty() && !core::resultIsCurrent(*m_session, m_session->resultsPlan);
    if (rows == 0)
        m_title->setText(m_session && m_session->settings ? tr("No layer errors yet: Study \u2192 Quantize measures them")
                                                          : tr("Sensitivity by modality: no quantization plan yet"));
    else
        m_title->setText((m_statistic == Lowest ? tr("Lowest SQNR by layer and modality") : tr("Mean SQNR by layer and modality"))
                         + (stale ? QStringLiteral("\n") + tr("Out of date: an earlier plan's (Study \u2192 Quantize)")
                                  : QString()));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

std::pair<int, int> SensitivityView::cellAt(const QPoint& pos) const
{
    if (!m_plot->axisRect()->rect().contains(pos))
        return {-1, -1};
    const int c = int(std::lround(m_plot->xAxis->pixelToCoord(pos.x())));
    const int r = int(std::lround(m_plot->yAxis->pixelToCoord(pos.y())));
    if (r < 0 || c < 0 || r >= int(m_layers.size()) || c >= int(m_columns.size()))
        return {-1, -1};
    return {r, c};
}

void SensitivityView::onClick(QMouseEvent* event)
{
    if (event->button() != Qt::LeftButton)
        return;
    const auto [r, c] = cellAt(event->pos());
    const QString g = groupAt(r, c);
    if (g.isEmpty())
        return;
    emit modalityActivated(m_columns[size_t(c)]);
    emit groupActivated(g);
}

} // namespace mq::ui
