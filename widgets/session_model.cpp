#include "session_model.h"

#include "display_names.h"

#include "calib/channel_stats.h"
#include "session.h"

#include <QColor>

#include <algorithm>
#include <cmath>
#include <map>

namespace mq::ui {

namespace {
// Internal ids: 0 for layer rows; 1 + layer row for module rows (the parent's row).
constexpr quintptr kLayerId = 0;
// What a modality or SQNR cell shows when there is no figure.
const QString kMissing = QStringLiteral("\u2013");

bool isScoreColumn(int column) { return column >= SessionModel::TextScoreColumn && column <= SessionModel::AudioScoreColumn; }
bool isSqnrColumn(int column) { return column >= SessionModel::SqnrColumn && column <= SessionModel::AudioSqnrColumn; }
// Index into ModuleRow::errors: the modality, or kNumModalities for the pooled SQNR column.
size_t errorSlot(int column)
{
    return column == SessionModel::SqnrColumn ? size_t(core::kNumModalities) : size_t(column - SessionModel::TextSqnrColumn);
}

QString modalityText(int m) { return modalityLabel(m); }
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
    m_form = form;
    refreshFigures(); // the same rows: the tree keeps its expansion and selection
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
    m_errorsStale = m_curvesStale = false;
    if (!m_session)
        return;
    if (!m_session->errors.empty() || !m_session->curves.empty()) {
        const std::string now = core::planFingerprint(*m_session);
        m_errorsStale = !m_session->resultsPlan.empty() && m_session->resultsPlan != now;
        m_curvesStale = !m_session->curvesPlan.empty() && m_session->curvesPlan != now;
    }
    std::map<std::string, GroupFigures> figures;
    for (const std::string& g : m_session->groups) {
        GroupFigures f;
        if (auto it = m_session->stats.find(g); it != m_session->stats.end() && !it->second.pooled.empty()) {
            const std::vector<double> d = core::dispersionScores(it->second.pooled, m_form);
            if (!d.empty())
                f.maxScore = *std::max_element(d.begin(), d.end());
        }
        if (auto it = m_session->stats.find(g); it != m_session->stats.end()) {
            for (int mo = 0; mo < core::kNumModalities; ++mo) {
                const core::ChannelStats& st = it->second.perModality[size_t(mo)];
                if (st.empty())
                    continue;
                const std::vector<double> d = core::dispersionScores(st, m_form);
                if (!d.empty())
                    f.modalityScore[size_t(mo)] = *std::max_element(d.begin(), d.end());
                f.modalityTokens[size_t(mo)] = qint64(st.count);
            }
        }
        if (auto it = m_session->plans.find(g); it != m_session->plans.end())
            f.masked = int(std::count(it->second.mask.begin(), it->second.mask.end(), uint8_t(1)));
        for (const core::LossCurve& c : m_session->curves)
            if (c.group == g && !c.points.empty())
                f.finalLoss = c.points.back().total;
        figures[g] = f;
    }
    std::map<std::string, const core::ModuleError*> errors;
    for (const core::ModuleError& e : m_session->errors)
        errors[e.module] = &e;
    auto errorFigures = [](const core::ErrorStat& st) {
        ErrorFigures f;
        if (st.tokens > 0) {
            f.sqnr = st.sqnrDb;
            f.cosine = st.cosine;
            f.tokens = qint64(st.tokens);
        }
        return f;
    };
    std::map<int, size_t> layerRow;
    for (const core::ModuleInfo& m : m_session->modules) {
        auto [it, added] = layerRow.emplace(m.layer, m_layers.size());
        if (added)
            m_layers.push_back(LayerRow{m.layer, {}});
        ModuleRow row;
        row.order = int(&m - m_session->modules.data());
        row.name = QString::fromStdString(m.name);
        // Under its layer node a module reads better without the "model.layers.N." prefix.
        row.shortName = moduleShortName(m.name, m.layer);
        row.kind = QString::fromStdString(m.kind);
        row.shape = QStringLiteral("%1 \u2192 %2").arg(m.inFeatures).arg(m.outFeatures);
        row.group = QString::fromStdString(m.inputGroup);
        row.figures = figures[m.inputGroup];
        if (auto e = errors.find(m.name); e != errors.end()) {
            for (int mo = 0; mo < core::kNumModalities; ++mo)
                row.errors[size_t(mo)] = errorFigures(e->second->perModality[size_t(mo)]);
            row.errors[size_t(core::kNumModalities)] = errorFigures(e->second->pooled);
        }
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
    const bool stale = (m_errorsStale && isSqnrColumn(index.column())) || (m_curvesStale && index.column() == LossColumn);
    if (stale && role == Qt::ForegroundRole)
        return QColor(Qt::gray);
    if (stale && role == Qt::ToolTipRole) {
        const QString base = index.internalId() == kLayerId
            ? layerData(m_layers[size_t(index.row())], index.column(), role).toString()
            : moduleData(m_layers[size_t(index.internalId() - 1)].modules[size_t(index.row())], index.column(), role)
                  .toString();
        return base + (base.isEmpty() ? QString() : QStringLiteral("\n"))
            + tr("Out of date: measured under an earlier plan (the masks, bounds or settings changed since). "
                 "Study \u2192 Quantize measures it again.");
    }
    if (index.internalId() == kLayerId)
        return layerData(m_layers[size_t(index.row())], index.column(), role);
    const LayerRow& l = m_layers[size_t(index.internalId() - 1)];
    return moduleData(l.modules[size_t(index.row())], index.column(), role);
}

QVariant SessionModel::moduleData(const ModuleRow& m, int column, int role) const
{
    if (role == GroupRole)
        return m.group;
    if (isScoreColumn(column) || isSqnrColumn(column)) {
        if (role == Qt::ToolTipRole)
            return figureToolTip(m, column);
        return figureData(moduleFigure(m, column), column, role);
    }
    const GroupFigures& f = m.figures;
    if (role == SortRole) {
        switch (column) {
        case NameColumn: return m.order; // execution order, not alphabetical
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
    if (isScoreColumn(column) || isSqnrColumn(column)) {
        if (role == Qt::ToolTipRole)
            return isScoreColumn(column) ? tr("The highest max D_c (%1 tokens) of this layer's input groups").arg(modalityText(column - TextScoreColumn))
                                         : tr("The lowest SQNR of this layer's modules");
        return figureData(layerFigure(l, column), column, role);
    }
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
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        const QString form = m_form == core::DispersionForm::Paper ? tr("paper form |max - min| / log(sum|x| + 1e-5)")
                                                                   : tr("code form |max - min| / log(1 + mean|x| + 1e-5)");
        switch (section) {
        case MaxScoreColumn:
            return tr("Highest dispersion score D_c over the input group's channels, all tokens pooled (%1)").arg(form);
        case MaskedColumn: return tr("Channels compensated by DABC");
        case LossColumn: return tr("Last MDQFO loss (L_p + lambda_cos L_cos) of the input group");
        case SqnrColumn:
            return tr("Output SQNR of the quantized module in dB over all calibration tokens, "
                      "10 log10(sum ||y||\u00b2 / sum ||y - y_q||\u00b2); lower is worse. "
                      "\u2013: not measured for the current plan");
        default: break;
        }
        if (isScoreColumn(section))
            return tr("Highest dispersion score D_c over the input group's channels, %1 tokens only (%2). "
                      "\u2013: no %1 token reached this input")
                .arg(modalityText(section - TextScoreColumn), form);
        if (isSqnrColumn(section))
            return tr("Output SQNR of the quantized module in dB over %1 tokens only; lower is worse. "
                      "\u2013: not measured, or no %1 token reached this module")
                .arg(modalityText(section - TextSqnrColumn));
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return tr("Module");
    case KindColumn: return tr("Kind");
    case ShapeColumn: return tr("In \u2192 Out");
    case GroupColumn: return tr("Input group");
    case MaxScoreColumn: return tr("Max D_c");
    case MaskedColumn: return tr("Masked");
    case LossColumn: return tr("Final loss");
    case TextScoreColumn: return tr("D_c text");
    case ImageScoreColumn: return tr("D_c image");
    case VideoScoreColumn: return tr("D_c video");
    case AudioScoreColumn: return tr("D_c audio");
    case SqnrColumn: return tr("SQNR dB");
    case TextSqnrColumn: return tr("SQNR text");
    case ImageSqnrColumn: return tr("SQNR image");
    case VideoSqnrColumn: return tr("SQNR video");
    case AudioSqnrColumn: return tr("SQNR audio");
    default: return {};
    }
}

double SessionModel::moduleFigure(const ModuleRow& m, int column)
{
    if (isScoreColumn(column))
        return m.figures.modalityScore[size_t(column - TextScoreColumn)];
    if (isSqnrColumn(column))
        return m.errors[errorSlot(column)].sqnr;
    return qQNaN();
}

double SessionModel::layerFigure(const LayerRow& l, int column)
{
    // The worst of the modules: the highest score, the lowest SQNR. Modules of one input group
    // share their scores, so taking every module gives the same as taking every group.
    double worst = qQNaN();
    for (const ModuleRow& m : l.modules) {
        const double v = moduleFigure(m, column);
        if (std::isnan(v))
            continue;
        if (std::isnan(worst))
            worst = v;
        else
            worst = isSqnrColumn(column) ? std::min(worst, v) : std::max(worst, v);
    }
    return worst;
}

QVariant SessionModel::figureData(double value, int column, int role) const
{
    switch (role) {
    case SortRole: return value;
    case Qt::TextAlignmentRole: return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::DisplayRole:
        if (std::isnan(value))
            return kMissing;
        if (std::isinf(value)) // an SQNR with no error at all
            return value > 0 ? QStringLiteral("\u221e") : QStringLiteral("-\u221e");
        return isSqnrColumn(column) ? QString::number(value, 'f', 1) : QString::number(value, 'g', 4);
    default: return {};
    }
}

QString SessionModel::figureToolTip(const ModuleRow& m, int column) const
{
    if (isScoreColumn(column)) {
        const int mo = column - TextScoreColumn;
        const qint64 tokens = m.figures.modalityTokens[size_t(mo)];
        if (tokens == 0)
            return tr("No %1 token reached input group %2").arg(modalityText(mo), m.group);
        return tr("Highest D_c of input group %1 over %2 %3 tokens")
            .arg(m.group).arg(tokens).arg(modalityText(mo));
    }
    const ErrorFigures& e = m.errors[errorSlot(column)];
    if (e.tokens == 0)
        return column == SqnrColumn
                   ? tr("No output error measured for %1").arg(m.name)
                   : tr("No %1 token in the output error of %2").arg(modalityText(int(errorSlot(column))), m.name);
    if (column == SqnrColumn)
        return tr("SQNR %1 dB, mean cosine %2 over all %3 tokens")
            .arg(QString::number(e.sqnr, 'f', 2), QString::number(e.cosine, 'f', 4))
            .arg(e.tokens);
    return tr("SQNR %1 dB, mean cosine %2 over %3 %4 tokens")
        .arg(QString::number(e.sqnr, 'f', 2), QString::number(e.cosine, 'f', 4))
        .arg(e.tokens)
        .arg(modalityText(int(errorSlot(column))));
}

bool SessionModel::columnHasData(int column) const
{
    if (column < 0 || column >= ColumnCount)
        return false;
    for (const LayerRow& l : m_layers)
        for (const ModuleRow& m : l.modules) {
            switch (column) {
            case MaxScoreColumn:
                if (!std::isnan(m.figures.maxScore))
                    return true;
                break;
            case MaskedColumn:
                if (m.figures.masked >= 0)
                    return true;
                break;
            case LossColumn:
                if (!std::isnan(m.figures.finalLoss))
                    return true;
                break;
            default:
                if (column < MaxScoreColumn || !std::isnan(moduleFigure(m, column)))
                    return true;
            }
        }
    return false;
}

SessionSortProxy::SessionSortProxy(QObject* parent) : QSortFilterProxyModel(parent)
{
    setSortRole(SessionModel::SortRole);
}

bool SessionSortProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const
{
    const QVariant l = left.data(sortRole());
    const QVariant r = right.data(sortRole());
    if (l.userType() != QMetaType::Double || r.userType() != QMetaType::Double)
        return QSortFilterProxyModel::lessThan(left, right);
    const double a = l.toDouble(), b = r.toDouble();
    const bool missingA = std::isnan(a), missingB = std::isnan(b);
    if (missingA || missingB) {
        // Descending order asks lessThan(right, left): a missing figure must then be "less" to
        // land last.
        if (missingA == missingB)
            return false;
        return sortOrder() == Qt::AscendingOrder ? missingB : missingA;
    }
    return a < b;
}

} // namespace mq::ui
