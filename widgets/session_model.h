#pragma once
// The module tree of a session: layers -> Linear modules, with per-input-group figures (worst
// pooled dispersion score, worst dispersion score per modality, masked channel count, final MDQFO
// loss) and per-module output error (SQNR pooled and per modality, from Session::errors). A layer
// row shows the worst over its modules. Read-only; sort it through SessionSortProxy (or any
// QSortFilterProxyModel: SortRole holds numbers for the numeric columns).
#include <QAbstractItemModel>
#include <QSortFilterProxyModel>
#include <QString>

#include <array>
#include <vector>

#include "calib/channel_stats.h"
#include "quant/quant_settings.h"

namespace mq::core {
struct Session;
}

namespace mq::ui {

class SessionModel : public QAbstractItemModel {
    Q_OBJECT
public:
    // Missing figures: the first three numeric columns (MaxScore, Masked, Loss) show an empty cell
    // and sort as -1; the modality and SQNR columns show "–" and sort as NaN.
    enum Column {
        NameColumn, KindColumn, ShapeColumn, GroupColumn, MaxScoreColumn, MaskedColumn, LossColumn,
        // max_c D_c of the input group over the tokens of one modality (same form as MaxScore)
        TextScoreColumn, ImageScoreColumn, VideoScoreColumn, AudioScoreColumn,
        // the module's output SQNR in dB (Session::errors), pooled then per modality; layer rows
        // show the lowest of their modules
        SqnrColumn, TextSqnrColumn, ImageSqnrColumn, VideoSqnrColumn, AudioSqnrColumn,
        ColumnCount
    };
    enum Role { GroupRole = Qt::UserRole + 1, SortRole };

    // The modality columns of modality m (core::Modality order).
    static constexpr int scoreColumn(core::Modality m) { return TextScoreColumn + int(m); }
    static constexpr int sqnrColumn(core::Modality m) { return TextSqnrColumn + int(m); }

    explicit SessionModel(QObject* parent = nullptr);

    // The session must outlive the model or be replaced by another call; nullptr clears.
    void setSession(const core::Session* session);
    // Which D_c formula the MaxScore and modality score columns show (GUI thread).
    void setDispersionForm(core::DispersionForm form);
    core::DispersionForm dispersionForm() const { return m_form; }
    // Re-reads the figures (masked counts, scores, errors) of the same session after its plans or
    // errors changed in place; rows stay, so selection and expansion survive (GUI thread).
    void refreshFigures();
    // True when at least one module has a figure in `column` (the text columns: when there is any
    // module). A view hides the columns without data, e.g. the video columns of a text-and-image
    // calibration or every SQNR column before errors were measured. Changes with setSession and
    // refreshFigures.
    bool columnHasData(int column) const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    using PerModality = std::array<double, core::kNumModalities>;
    static_assert(core::kNumModalities == 4, "one score and one SQNR column per modality");
    struct GroupFigures {
        double maxScore = qQNaN();
        int masked = -1;         // -1: no plan
        double finalLoss = qQNaN();
        PerModality modalityScore{qQNaN(), qQNaN(), qQNaN(), qQNaN()}; // NaN: no token of it
        std::array<qint64, core::kNumModalities> modalityTokens{}; // behind each modality's stats
    };
    struct ErrorFigures {
        double sqnr = qQNaN();   // NaN: no entry, or no token of the modality
        double cosine = qQNaN();
        qint64 tokens = 0;
    };
    struct ModuleRow {
        QString name, shortName, kind, shape, group;
        int order = 0; // position in the network (the session's module order): the name column sorts by it
        GroupFigures figures;
        std::array<ErrorFigures, core::kNumModalities + 1> errors; // per modality, then pooled
    };
    struct LayerRow {
        int layer = -1;
        std::vector<ModuleRow> modules;
    };

    void rebuild();
    QVariant moduleData(const ModuleRow& m, int column, int role) const;
    QVariant layerData(const LayerRow& l, int column, int role) const;
    // The figure of a modality or SQNR column, NaN when missing.
    static double moduleFigure(const ModuleRow& m, int column);
    static double layerFigure(const LayerRow& l, int column);
    QVariant figureData(double value, int column, int role) const;
    QString figureToolTip(const ModuleRow& m, int column) const;

    const core::Session* m_session = nullptr;
    // The layer errors / loss curves were measured under an earlier plan (greyed, said so).
    bool m_errorsStale = false, m_curvesStale = false;
    core::DispersionForm m_form = core::DispersionForm::Code;
    std::vector<LayerRow> m_layers;
};

// Sorts SessionModel::SortRole so that missing figures (NaN) come last in either order; the plain
// QSortFilterProxyModel compares NaN as neither less nor greater than anything, which leaves rows
// with a missing SQNR or modality score scattered among the others.
class SessionSortProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit SessionSortProxy(QObject* parent = nullptr);

protected:
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;
};

} // namespace mq::ui
