#include "session_model.h"

#include "calib/channel_stats.h"
#include "session.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace mq::ui {

namespace {
// Internal ids: 0 for layer rows; 1 + layer row for module rows (the parent's row).
constexpr quintptr kLayerId = 0;
} // namespace

SessionModel::SessionModel(QObject* parent) : QAbstractItemModel(parent) {}

void SessionModel::setSession(const core::Session* session)
{
    beginResetModel();
    m_session = session;
    if (m_session && m_session->settings)
        m_form = m_session->settings->dabc.form;
    rebuild();
    endResetModel();
}

void SessionModel::setDispersionForm(core::DispersionForm form)
{
    if (form == m_form)
        return;
    beginResetModel();
    m_form = form;
    rebuild();
    endResetModel();
}

void SessionModel::refreshFigures()
{
    const size_t layers = m_layers.size();
    rebuild();
    if (m_layers.size() != layers) { // the structure changed after all: start over
        beginResetModel();
        endResetModel();
        return;
    }
    if (m_layers.empty())
        return;
    emit dataChanged(index(0, 0), index(int(m_layers.size()) - 1, ColumnCount - 1));
    for (int r = 0; r < int(m_layers.size()); ++r) {
        const QModelIndex layer = index(r, 0);
        const int n = rowCount(layer);
        if (n > 0)
            emit dataChanged(index(0, 0, layer), index(n - 1, ColumnCount - 1, layer));
    }
}

void SessionModel::rebuild()
{
    m_layers.clear();
    if (!m_session)
        return;
    std::map<std::string, GroupFigures> figures;
    for (const std::string& g : m_session->groups) {
        GroupFigures f;
        if (auto it = m_session->stats.find(g); it != m_session->stats.end() && !it->second.pooled.empty()) {
            const std::vector<double> d = core::dispersionScores(it->second.pooled, m_form);
            if (!d.empty())
                f.maxScore = *std::max_element(d.begin(), d.end());
        }
        if (auto it = m_session->plans.find(g); it != m_session->plans.end())
            f.masked = int(std::count(it->second.mask.begin(), it->second.mask.end(), uint8_t(1)));
        for (const core::LossCurve& c : m_session->curves)
            if (c.group == g && !c.points.empty())
                f.finalLoss = c.points.back().total;
        figures[g] = f;
    }
    std::map<int, size_t> layerRow;
    for (const core::ModuleInfo& m : m_session->modules) {
        auto [it, added] = layerRow.emplace(m.layer, m_layers.size());
        if (added)
            m_layers.push_back(LayerRow{m.layer, {}});
        ModuleRow row;
        row.name = QString::fromStdString(m.name);
        // Under its layer node a module reads better without the "model.layers.N." prefix.
        const QString prefix = QStringLiteral("layers.%1.").arg(m.layer);
        const int at = row.name.indexOf(prefix);
        row.shortName = at >= 0 ? row.name.mid(at + prefix.size()) : row.name;
        row.kind = QString::fromStdString(m.kind);
        row.shape = QStringLiteral("%1 \u2192 %2").arg(m.inFeatures).arg(m.outFeatures);
        row.group = QString::fromStdString(m.inputGroup);
        row.figures = figures[m.inputGroup];
        m_layers[it->second].modules.push_back(row);
    }
}

QModelIndex SessionModel::index(int row, int column, const QModelIndex& parent) const
{
    if (row < 0 || column < 0 || column >= ColumnCount)
        return {};
    if (!parent.isValid())
        return row < int(m_layers.size()) ? createIndex(row, column, kLayerId) : QModelIndex();
    if (parent.internalId() != kLayerId)
        return {};
    const LayerRow& l = m_layers[size_t(parent.row())];
    return row < int(l.modules.size()) ? createIndex(row, column, quintptr(parent.row()) + 1) : QModelIndex();
}

QModelIndex SessionModel::parent(const QModelIndex& child) const
{
    if (!child.isValid() || child.internalId() == kLayerId)
        return {};
    return createIndex(int(child.internalId() - 1), 0, kLayerId);
}

int SessionModel::rowCount(const QModelIndex& parent) const
{
    if (!parent.isValid())
        return int(m_layers.size());
    if (parent.internalId() == kLayerId && parent.column() == 0)
        return int(m_layers[size_t(parent.row())].modules.size());
    return 0;
}

int SessionModel::columnCount(const QModelIndex&) const { return ColumnCount; }

QVariant SessionModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid())
        return {};
    if (index.internalId() == kLayerId)
        return layerData(m_layers[size_t(index.row())], index.column(), role);
    const LayerRow& l = m_layers[size_t(index.internalId() - 1)];
    return moduleData(l.modules[size_t(index.row())], index.column(), role);
}

QVariant SessionModel::moduleData(const ModuleRow& m, int column, int role) const
{
    if (role == GroupRole)
        return m.group;
    const GroupFigures& f = m.figures;
    if (role == SortRole) {
        switch (column) {
        case MaxScoreColumn: return std::isnan(f.maxScore) ? -1.0 : f.maxScore;
        case MaskedColumn: return f.masked;
        case LossColumn: return std::isnan(f.finalLoss) ? -1.0 : f.finalLoss;
        default: return moduleData(m, column, Qt::DisplayRole);
        }
    }
    if (role == Qt::TextAlignmentRole && column >= MaxScoreColumn)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && column == NameColumn)
        return tr("%1\ninput group %2").arg(m.name, m.group);
    if (role != Qt::DisplayRole)
        return {};
    switch (column) {
    case NameColumn: return m.shortName;
    case KindColumn: return m.kind;
    case ShapeColumn: return m.shape;
    case GroupColumn: return m.group;
    case MaxScoreColumn: return std::isnan(f.maxScore) ? QString() : QString::number(f.maxScore, 'g', 4);
    case MaskedColumn: return f.masked < 0 ? QString() : QString::number(f.masked);
    case LossColumn: return std::isnan(f.finalLoss) ? QString() : QString::number(f.finalLoss, 'g', 4);
    default: return {};
    }
}

QVariant SessionModel::layerData(const LayerRow& l, int column, int role) const
{
    // A layer row shows the worst score, total masked count and worst loss of its modules' groups.
    double worst = qQNaN(), loss = qQNaN();
    int masked = -1;
    QStringList seen;
    for (const ModuleRow& m : l.modules) {
        if (seen.contains(m.group))
            continue;
        seen << m.group;
        if (!std::isnan(m.figures.maxScore))
            worst = std::isnan(worst) ? m.figures.maxScore : std::max(worst, m.figures.maxScore);
        if (!std::isnan(m.figures.finalLoss))
            loss = std::isnan(loss) ? m.figures.finalLoss : std::max(loss, m.figures.finalLoss);
        if (m.figures.masked >= 0)
            masked = std::max(masked, 0) + m.figures.masked;
    }
    if (role == GroupRole)
        return l.modules.empty() ? QString() : l.modules.front().group;
    if (role == SortRole) {
        switch (column) {
        case NameColumn: return l.layer;
        case MaxScoreColumn: return std::isnan(worst) ? -1.0 : worst;
        case MaskedColumn: return masked;
        case LossColumn: return std::isnan(loss) ? -1.0 : loss;
        default: return layerData(l, column, Qt::DisplayRole);
        }
    }
    if (role == Qt::TextAlignmentRole && column >= MaxScoreColumn)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    switch (column) {
    case NameColumn: return l.layer < 0 ? tr("Other") : tr("Layer %1").arg(l.layer);
    case KindColumn: return tr("%n module(s)", nullptr, int(l.modules.size()));
    case MaxScoreColumn: return std::isnan(worst) ? QString() : QString::number(worst, 'g', 4);
    case MaskedColumn: return masked < 0 ? QString() : QString::number(masked);
    case LossColumn: return std::isnan(loss) ? QString() : QString::number(loss, 'g', 4);
    default: return {};
    }
}

QVariant SessionModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return tr("Module");
    case KindColumn: return tr("Kind");
    case ShapeColumn: return tr("In \u2192 Out");
    case GroupColumn: return tr("Input group");
    case MaxScoreColumn: return tr("Max D_c");
    case MaskedColumn: return tr("Masked");
    case LossColumn: return tr("Final loss");
    default: return {};
    }
}

} // namespace mq::ui
