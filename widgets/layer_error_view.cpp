#include "layer_error_view.h"

#include "display_names.h"

#include "session.h"

#include <QColor>
#include <QHeaderView>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include <cmath>

namespace mq::ui {

namespace {
constexpr int kFixedColumns = 3; // Module, Layer, Kind

const core::ErrorStat& statOf(const core::ModuleError& e, int modality)
{
    return modality < 0 ? e.pooled : e.perModality[size_t(modality)];
}

QString modalityTitle(int modality) { return modalityLabel(modality); }

// Red below 10 dB, amber to 20 dB, none above: where 4-bit error is large enough to matter.
QVariant sqnrBackground(double db)
{
    if (db < 10.0)
        return QColor(255, 205, 200);
    if (db < 20.0)
        return QColor(255, 235, 190);
    return {};
}
} // namespace

LayerErrorModel::LayerErrorModel(QObject* parent) : QAbstractTableModel(parent) {}

void LayerErrorModel::setSession(const core::Session* session)
{
    beginResetModel();
    m_session = session;
    m_rows.clear();
    m_modalities = {-1};
    if (m_session) {
        std::array<bool, core::kNumModalities> present{};
        for (const core::ModuleError& e : m_session->errors) {
            Row r{&e, QString::fromStdString(e.module), {}, {}, -1};
            if (const core::ModuleInfo* m = m_session->findModule(e.module)) {
                r.kind = QString::fromStdString(m->kind);
                r.group = QString::fromStdString(m->inputGroup);
                r.layer = m->layer;
                r.name = moduleShortName(e.module, m->layer); // as the tree names it, beside its layer
            }
            for (int k = 0; k < core::kNumModalities; ++k)
                present[size_t(k)] = present[size_t(k)] || e.perModality[size_t(k)].tokens > 0;
            m_rows.push_back(r);
        }
        for (int k = 0; k < core::kNumModalities; ++k)
            if (present[size_t(k)])
                m_modalities.push_back(k);
    }
    m_stale = m_session && !m_session->errors.empty() && !core::resultIsCurrent(*m_session, m_session->resultsPlan);
    endResetModel();
}

void LayerErrorModel::refreshStale()
{
    const bool stale = m_session && !m_session->errors.empty() && !core::resultIsCurrent(*m_session, m_session->resultsPlan);
    if (stale == m_stale)
        return;
    m_stale = stale;
    if (!m_rows.empty())
        emit dataChanged(index(0, 0), index(int(m_rows.size()) - 1, columnCount() - 1),
                         {Qt::ForegroundRole, Qt::ToolTipRole});
}

int LayerErrorModel::modalityOfColumn(int column) const
{
    const int i = (column - kFixedColumns) / 2;
    if (column < kFixedColumns || i >= int(m_modalities.size()))
        return -2;
    return m_modalities[size_t(i)];
}

bool LayerErrorModel::isCosineColumn(int column) const
{
    return column >= kFixedColumns && (column - kFixedColumns) % 2 == 1;
}

int LayerErrorModel::columnOf(int modality, bool cosine) const
{
    for (size_t i = 0; i < m_modalities.size(); ++i)
        if (m_modalities[i] == modality)
            return kFixedColumns + int(i) * 2 + (cosine ? 1 : 0);
    return -1;
}

int LayerErrorModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int LayerErrorModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : kFixedColumns + 2 * int(m_modalities.size());
}

QVariant LayerErrorModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_rows.size()))
        return {};
    const Row& r = m_rows[size_t(index.row())];
    const int c = index.column();
    if (role == GroupRole)
        return r.group;
    if (role == ModuleRole)
        return QString::fromStdString(r.error->module);
    if (c < kFixedColumns) {
        if (role != Qt::DisplayRole && role != SortRole && role != Qt::ToolTipRole)
            return {};
        if (role == Qt::ToolTipRole && c == 0)
            return tr("%1\ninput group %2").arg(QString::fromStdString(r.error->module), r.group);
        if (role == SortRole && c == 0) // network order, not alphabetical
            return int(index.row());
        switch (c) {
        case 0: return r.name;
        case 1: return r.layer;
        default: return r.kind;
        }
    }
    const int modality = modalityOfColumn(c);
    if (modality == -2)
        return {};
    const core::ErrorStat& s = statOf(*r.error, modality);
    const bool cosine = isCosineColumn(c);
    const double v = cosine ? s.cosine : s.sqnrDb;
    if (m_stale && role == Qt::ForegroundRole)
        return QColor(Qt::gray);
    if (m_stale && role == Qt::ToolTipRole)
        return tr("Out of date: measured under an earlier plan. %1, %2 tokens: SQNR %3 dB, cosine %4")
            .arg(modalityTitle(modality))
            .arg(s.tokens)
            .arg(s.sqnrDb, 0, 'f', 3)
            .arg(s.cosine, 0, 'f', 6);
    switch (role) {
    case Qt::DisplayRole:
        if (s.tokens <= 0)
            return QStringLiteral("\u2013");
        return cosine ? QString::number(v, 'f', 4) : QString::number(v, 'f', 2);
    case SortRole:
        return s.tokens > 0 ? QVariant(v) : QVariant(qQNaN());
    case Qt::TextAlignmentRole:
        return int(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::BackgroundRole:
        return !cosine && s.tokens > 0 ? sqnrBackground(v) : QVariant();
    case Qt::ToolTipRole:
        return tr("%1, %2 tokens: SQNR %3 dB, cosine %4")
            .arg(modalityTitle(modality))
            .arg(s.tokens)
            .arg(s.sqnrDb, 0, 'f', 3)
            .arg(s.cosine, 0, 'f', 6);
    default:
        return {};
    }
}

QVariant LayerErrorModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole && section >= kFixedColumns)
        return isCosineColumn(section)
                   ? tr("Mean cosine similarity of the full-precision and quantized outputs, per token")
                   : tr("Signal to quantization noise ratio of the module's output: 10 log10(sum |y|^2 / sum |y - yq|^2)");
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case 0: return tr("Module");
    case 1: return tr("Layer");
    case 2: return tr("Kind");
    default: break;
    }
    const int modality = modalityOfColumn(section);
    if (modality == -2)
        return {};
    return isCosineColumn(section) ? tr("cos %1").arg(modalityTitle(modality))
                                   : tr("SQNR %1 (dB)").arg(modalityTitle(modality));
}

LayerErrorView::LayerErrorView(QWidget* parent) : QWidget(parent)
{
    m_model = new LayerErrorModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(LayerErrorModel::SortRole);
    m_table = new QTableView(this);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(-1, Qt::AscendingOrder); // network order until a person sorts
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_ppl = new QLabel(this);
    m_ppl->setWordWrap(true);
    m_ppl->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_stale = new QLabel(this);
    m_stale->setWordWrap(true);
    m_stale->setStyleSheet(QStringLiteral("QLabel { background: #fff1c9; color: #3d2f00; padding: 4px; "
                                          "border: 1px solid #e0c060; border-radius: 3px; }"));
    m_stale->hide();
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_stale);
    layout->addWidget(m_ppl);
    layout->addWidget(m_table, 1);
    connect(m_table, &QTableView::activated, this, [this](const QModelIndex& i) {
        const QString g = i.data(LayerErrorModel::GroupRole).toString();
        if (!g.isEmpty())
            emit groupActivated(g);
    });
    setSession(nullptr);
}

void LayerErrorView::setSession(const core::Session* session)
{
    m_session = session;
    m_model->setSession(session);
    updateText();
    m_table->resizeColumnsToContents();
}

void LayerErrorView::refresh()
{
    m_model->refreshStale();
    updateText();
}

void LayerErrorView::updateText()
{
    const core::Session* session = m_session;
    // What is out of date, and the action that measures it again.
    QStringList stale;
    if (session && !session->errors.empty() && !core::resultIsCurrent(*session, session->resultsPlan))
        stale << tr("the layer errors");
    bool staleEval = false;
    if (session)
        for (const core::EvalResult& e : session->evals)
            staleEval = staleEval || !core::resultIsCurrent(*session, e.plan);
    if (staleEval)
        stale << tr("the perplexity");
    m_stale->setVisible(!stale.isEmpty());
    if (!stale.isEmpty())
        m_stale->setText(tr("Out of date: %1 were measured under an earlier plan (masks, bounds or settings changed "
                            "since). Study \u2192 Quantize measures the errors again, Study \u2192 Evaluate the "
                            "perplexity.")
                             .arg(stale.join(tr(" and "))));
    if (!session || session->errors.empty()) {
        m_ppl->setText(session && session->settings
                           ? tr("No layer errors in this session: run Study \u2192 Quantize to measure them.")
                           : tr("No quantization plan yet."));
    } else {
        m_ppl->setText(tr("%n module(s); SQNR and cosine of each Linear's output with its full-precision input.",
                          nullptr, int(session->errors.size())));
    }
    if (session && !session->evals.empty()) {
        QStringList lines;
        const core::EvalResult* fp = nullptr;
        for (const core::EvalResult& e : session->evals)
            if (e.label == "full precision" && !fp)
                fp = &e;
        for (const core::EvalResult& e : session->evals) {
            QString line = tr("<b>%1</b>: perplexity %2 (NLL %3, %4 tokens)")
                               .arg(evalLabel(e.label).toHtmlEscaped())
                               .arg(e.ppl, 0, 'f', 4)
                               .arg(e.nll, 0, 'f', 6)
                               .arg(e.tokens);
            if (fp && &e != fp && fp->data == e.data && fp->ppl > 0)
                line += tr(", %1% vs full precision").arg(QString::asprintf("%+.1f", 100.0 * (e.ppl / fp->ppl - 1.0)));
            if (e.kl >= 0.0)
                line += tr(", KL divergence %1 nats per token").arg(e.kl, 0, 'f', 4);
            // Per modality when more than text was measured (an evaluation on an Omni manifest).
            QStringList perModality;
            for (int m = 1; m < core::kNumModalities; ++m)
                if (e.klByModality[size_t(m)] >= 0.0)
                    perModality << tr("%1 %2").arg(modalityLabel(m)).arg(e.klByModality[size_t(m)], 0, 'g', 3);
            if (!perModality.isEmpty() && e.klByModality[0] >= 0.0)
                perModality.prepend(tr("%1 %2").arg(modalityLabel(0)).arg(e.klByModality[0], 0, 'g', 3));
            if (!perModality.isEmpty())
                line += tr(" (KL by modality: %1)").arg(perModality.join(QStringLiteral(", ")).toHtmlEscaped());
            // Quantized encoders (--quantize-encoders): each one's output error on the manifest.
            QStringList encoders;
            for (const core::ModuleError& me : e.encoders)
                encoders << tr("%1 SQNR %2 dB").arg(me.module == "vision" ? tr("vision") : tr("audio"))
                                .arg(me.pooled.sqnrDb, 0, 'f', 1);
            if (!encoders.isEmpty())
                line += tr("; quantized encoders: %1").arg(encoders.join(QStringLiteral(", ")).toHtmlEscaped());
            if (!core::resultIsCurrent(*session, e.plan))
                line = QStringLiteral("<span style=\"color:gray\">") + line + QStringLiteral("</span> ")
                    + tr("<i>(out of date)</i>");
            lines << line;
        }
        if (session->settings)
            lines << costLine(core::quantCost(*session)).toHtmlEscaped();
        m_ppl->setText(lines.join(QStringLiteral("<br>")) + QStringLiteral("<br>") + m_ppl->text().toHtmlEscaped());
    }
}

} // namespace mq::ui
