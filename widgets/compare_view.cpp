#include "compare_view.h"

#include "display_names.h"
#include "plot_export.h"
#include "quant/cost.h"
#include "session.h"

#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <cmath>
#include <limits>

namespace mq::ui {

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// A number cell that sorts by value (NaN last) and shows `decimals` digits.
QTableWidgetItem* numberItem(double v, int decimals, bool signedValue = false)
{
    auto* item = new QTableWidgetItem;
    if (std::isnan(v)) {
        item->setData(Qt::DisplayRole, QStringLiteral("\u2013"));
        item->setData(Qt::UserRole, -std::numeric_limits<double>::infinity());
    } else {
        item->setData(Qt::DisplayRole, signedValue ? QString::asprintf("%+.*f", decimals, v) : QString::number(v, 'f', decimals));
        item->setData(Qt::UserRole, v);
    }
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

// Sorts number cells by their value, text cells as text.
class SortItem : public QTableWidgetItem {
public:
    bool operator<(const QTableWidgetItem& other) const override
    {
        const QVariant a = data(Qt::UserRole), b = other.data(Qt::UserRole);
        if (a.isValid() && b.isValid())
            return a.toDouble() < b.toDouble();
        return QTableWidgetItem::operator<(other);
    }
};

QTableWidgetItem* sortable(QTableWidgetItem* from)
{
    auto* item = new SortItem;
    *static_cast<QTableWidgetItem*>(item) = *from;
    delete from;
    return item;
}

// The last quantized (not full-precision) evaluation of a session, or nullptr.
const core::EvalResult* lastQuantizedEval(const core::Session& s)
{
    for (auto it = s.evals.rbegin(); it != s.evals.rend(); ++it)
        if (it->label != "full precision")
            return &*it;
    return nullptr;
}

} // namespace

CompareView::CompareView(QWidget* parent) : QWidget(parent)
{
    m_header = new QLabel(this);
    m_header->setWordWrap(true);
    m_header->setTextFormat(Qt::RichText);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_table = new QTableWidget(this);
    m_table->setColumnCount(7);
    m_table->setHorizontalHeaderLabels({tr("Module"), tr("Layer"), tr("Kind"), tr("SQNR A (dB)"), tr("SQNR B (dB)"),
                                        tr("\u0394 B \u2212 A (dB)"), tr("Group")});
    m_table->setSortingEnabled(true);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    connect(m_table, &QTableWidget::cellActivated, this, [this](int row, int) {
        if (QTableWidgetItem* g = m_table->item(row, 6))
            emit groupActivated(g->text());
    });
    m_plot = new QCustomPlot(this);
    m_plot->xAxis->setLabel(tr("module (network order)"));
    m_plot->yAxis->setLabel(tr("\u0394 SQNR, B \u2212 A (dB)"));
    m_better = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_better->setName(tr("B better"));
    m_better->setPen(Qt::NoPen);
    m_better->setBrush(QColor(44, 160, 44));
    m_worse = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_worse->setName(tr("B worse"));
    m_worse->setPen(Qt::NoPen);
    m_worse->setBrush(QColor(214, 39, 40));
    m_plot->legend->setVisible(true);
    placeLegendBelow(m_plot, 2);
    installExportMenu(m_plot, QStringLiteral("compare"));
    m_split = new QSplitter(Qt::Vertical, this);
    m_split->addWidget(m_table);
    m_split->addWidget(m_plot);
    m_split->setStretchFactor(0, 3);
    m_split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_header);
    layout->addWidget(m_split, 1);
    layout->addStretch(0);
    rebuild();
}

CompareView::~CompareView() = default;

void CompareView::setSession(const core::Session* a)
{
    m_a = a;
    bool sameModel = a && m_other && a->modules.size() == m_other->modules.size();
    for (size_t i = 0; sameModel && i < a->modules.size(); ++i)
        sameModel = a->modules[i].name == m_other->modules[i].name;
    if (m_other && !sameModel) { // another model now: B means nothing beside it
        clearOther();
        return;
    }
    rebuild();
}

QString CompareView::setOther(const core::Session& b, const QString& title)
{
    if (m_a) {
        if (m_a->modules.size() != b.modules.size())
            return tr("%1 has %2 Linear modules, the open session %3: not the same model")
                .arg(title)
                .arg(b.modules.size())
                .arg(m_a->modules.size());
        for (size_t i = 0; i < b.modules.size(); ++i)
            if (b.modules[i].name != m_a->modules[i].name)
                return tr("%1 has module %2 where the open session has %3: not the same model")
                    .arg(title, QString::fromStdString(b.modules[i].name), QString::fromStdString(m_a->modules[i].name));
    }
    m_other = std::make_unique<core::Session>(b);
    m_otherTitle = title;
    rebuild();
    emit otherChanged();
    return {};
}

void CompareView::clearOther()
{
    m_other.reset();
    m_otherTitle.clear();
    rebuild();
    emit otherChanged();
}

void CompareView::refresh()
{
    rebuild();
}

QString CompareView::describe(const core::Session& s, const QString& name)
{
    QString line = QStringLiteral("<b>%1</b> %2").arg(name.toHtmlEscaped(),
                                                      s.settings ? QString::fromStdString(s.settings->label()).toHtmlEscaped()
                                                                 : tr("no plan").toHtmlEscaped());
    if (const core::EvalResult* e = lastQuantizedEval(s)) {
        line += tr(": perplexity %1").arg(e->ppl, 0, 'f', 4);
        if (e->kl >= 0.0)
            line += tr(", KL %1").arg(e->kl, 0, 'f', 4);
        if (!core::resultIsCurrent(s, e->plan))
            line += QStringLiteral(" ") + tr("<i>(out of date)</i>");
    } else {
        line += tr(": not evaluated");
    }
    if (s.settings)
        line += QStringLiteral("<br>&nbsp;&nbsp;") + costLine(core::quantCost(s)).toHtmlEscaped();
    return line;
}

std::map<std::string, std::vector<int>> CompareView::maskDifferences() const
{
    std::map<std::string, std::vector<int>> out;
    if (!m_a || !m_other)
        return out;
    for (const auto& [g, p] : m_a->plans) {
        auto it = m_other->plans.find(g);
        if (it == m_other->plans.end() || it->second.mask.size() != p.mask.size())
            continue;
        for (size_t c = 0; c < p.mask.size(); ++c)
            if (p.mask[c] != it->second.mask[c])
                out[g].push_back(int(c));
    }
    return out;
}

void CompareView::rebuild()
{
    m_rows.clear();
    m_table->setSortingEnabled(false);
    m_table->setRowCount(0);
    m_split->setVisible(m_a && m_other); // no empty table and invented axes before there is a B
    if (!m_a || !m_other) {
        m_header->setText(m_a ? tr("Compare the open plan with another: File \u2192 Compare With Session..., or Study "
                                   "\u2192 Keep Plan for Comparison before trying other settings.")
                              : tr("Open a session first."));
        m_better->data()->clear();
        m_worse->data()->clear();
        m_plot->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    std::map<std::string, const core::ModuleError*> ea, eb;
    for (const core::ModuleError& e : m_a->errors)
        ea[e.module] = &e;
    for (const core::ModuleError& e : m_other->errors)
        eb[e.module] = &e;
    for (const core::ModuleInfo& m : m_a->modules) {
        Row r;
        r.module = QString::fromStdString(m.name);
        r.shortName = moduleShortName(m.name, m.layer);
        r.kind = QString::fromStdString(m.kind);
        r.group = QString::fromStdString(m.inputGroup);
        r.layer = m.layer;
        auto a = ea.find(m.name), b = eb.find(m.name);
        r.a = a != ea.end() && a->second->pooled.tokens > 0 ? a->second->pooled.sqnrDb : kNan;
        r.b = b != eb.end() && b->second->pooled.tokens > 0 ? b->second->pooled.sqnrDb : kNan;
        m_rows.push_back(r);
    }
    const auto diffs = maskDifferences();
    int64_t differing = 0;
    for (const auto& [g, v] : diffs)
        differing += int64_t(v.size());
    m_header->setText(describe(*m_a, tr("A (open)")) + QStringLiteral("<br>") + describe(*m_other, tr("B (%1)").arg(m_otherTitle))
                      + QStringLiteral("<br>")
                      + tr("DABC masks differ in %n channel(s)", nullptr, int(differing))
                      + (differing > 0 ? tr(" of %n input group(s) (marked in the heatmap)", nullptr, int(diffs.size())) : QString()));

    m_table->setRowCount(int(m_rows.size()));
    QVector<double> xb, yb, xw, yw;
    for (size_t i = 0; i < m_rows.size(); ++i) {
        const Row& r = m_rows[i];
        const int row = int(i);
        auto* name = new SortItem;
        name->setText(r.shortName); // as the tree names it, beside its layer
        name->setToolTip(r.module);
        name->setData(Qt::UserRole, double(i)); // network order
        m_table->setItem(row, 0, name);
        m_table->setItem(row, 1, sortable(numberItem(r.layer, 0)));
        m_table->setItem(row, 2, new QTableWidgetItem(r.kind));
        m_table->setItem(row, 3, sortable(numberItem(r.a, 2)));
        m_table->setItem(row, 4, sortable(numberItem(r.b, 2)));
        const double d = r.b - r.a;
        QTableWidgetItem* delta = sortable(numberItem(d, 2, true));
        if (!std::isnan(d) && std::fabs(d) >= 0.05)
            delta->setForeground(d > 0 ? QColor(30, 120, 30) : QColor(190, 30, 30));
        m_table->setItem(row, 5, delta);
        m_table->setItem(row, 6, new QTableWidgetItem(r.group));
        if (std::isnan(d))
            continue;
        if (d >= 0) {
            xb << double(i);
            yb << d;
        } else {
            xw << double(i);
            yw << d;
        }
    }
    m_table->setSortingEnabled(true);
    m_better->setData(xb, yb, true);
    m_worse->setData(xw, yw, true);
    m_plot->xAxis->setRange(-1, std::max<double>(1, double(m_rows.size())));
    m_plot->yAxis->rescale();
    QCPRange y = m_plot->yAxis->range();
    m_plot->yAxis->setRange(std::min(0.0, y.lower) - 0.1, std::max(0.0, y.upper) + 0.1);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace mq::ui
