#pragma once
// The module tree of a session: layers -> Linear modules, with per-input-group figures (worst
// pooled dispersion score, masked channel count, final MDQFO loss). Read-only; sort it through a
// QSortFilterProxyModel (SortRole holds numbers for the numeric columns).
#include <QAbstractItemModel>
#include <QString>

#include <vector>

#include "quant/quant_settings.h"

namespace mq::core {
struct Session;
}

namespace mq::ui {

class SessionModel : public QAbstractItemModel {
    Q_OBJECT
public:
    enum Column { NameColumn, KindColumn, ShapeColumn, GroupColumn, MaxScoreColumn, MaskedColumn,
                  LossColumn, ColumnCount };
    enum Role { GroupRole = Qt::UserRole + 1, SortRole };

    explicit SessionModel(QObject* parent = nullptr);

    // The session must outlive the model or be replaced by another call; nullptr clears.
    void setSession(const core::Session* session);
    // Which D_c formula the MaxScore column shows (GUI thread).
    void setDispersionForm(core::DispersionForm form);
    core::DispersionForm dispersionForm() const { return m_form; }
    // Re-reads the figures (masked counts, scores) of the same session after its plans changed in
    // place; rows stay, so selection and expansion survive (GUI thread).
    void refreshFigures();

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct GroupFigures {
        double maxScore = qQNaN();
        int masked = -1;         // -1: no plan
        double finalLoss = qQNaN();
    };
    struct ModuleRow {
        QString name, shortName, kind, shape, group;
        GroupFigures figures;
    };
    struct LayerRow {
        int layer = -1;
        std::vector<ModuleRow> modules;
    };

    void rebuild();
    QVariant moduleData(const ModuleRow& m, int column, int role) const;
    QVariant layerData(const LayerRow& l, int column, int role) const;

    const core::Session* m_session = nullptr;
    core::DispersionForm m_form = core::DispersionForm::Code;
    std::vector<LayerRow> m_layers;
};

} // namespace mq::ui
