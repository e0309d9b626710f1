/// Reduction of long series to what a plot can show.
///
/// A 100 000-point log drawn into a 600-pixel-wide plot needs at most two points per pixel
/// column (the lowest and the highest) to look identical, and keeping exactly those means no
/// spike disappears. Plots decimate automatically; this type is public so that other output
/// (CSV previews, terminal sparklines) can do the same.
public enum Decimation {
    /// `x`, `y` reduced to at most two points per column: the lowest and the highest `y` of the
    /// points in each of `columns` equal-width `x` intervals, in their original order.
    ///
    /// Points where `x` or `y` is NaN or ±∞ are dropped. When `x` is not in non-decreasing order
    /// (a phase portrait), columns are equal runs of consecutive points instead. The result has
    /// at most `2 × columns` points and always contains the global minimum and maximum of `y`.
    /// Only the first `min(x.count, y.count)` points are read.
    public static func minMaxPerColumn(x: [Double], y: [Double], columns: Int) -> (x: [Double], y: [Double]) {
        let n = min(x.count, y.count)
        let columns = max(1, columns)
        var lo = Double.infinity, hi = -Double.infinity
        for i in 0..<n where x[i].isFinite && y[i].isFinite {
            lo = min(lo, x[i])
            hi = max(hi, x[i])
        }
        guard lo <= hi else { return ([], []) }
        let width = hi > lo ? hi - lo : 1
        // Column coordinates in [0, columns): the key of a point is the integer part.
        let position = (0..<n).map { i in
            x[i].isFinite ? min((x[i] - lo) / width * Double(columns), Double(columns) - 0.5) : .nan
        }
        let kept = polylines(position: position, y: Array(y.prefix(n)), columns: columns, breakOnGaps: false)
        let indices = kept.flatMap { $0 }
        return (indices.map { x[$0] }, indices.map { y[$0] })
    }

    /// The indices to keep, grouped into polylines (runs to draw connected).
    ///
    /// `position` is in column units (a pixel x on a plot). A point is skipped when its position
    /// or y is not finite. Each column contributes the indices of its lowest and highest y in
    /// index order. If `position` is not non-decreasing over the finite points, columns are runs
    /// of `n / columns` consecutive indices. With `breakOnGaps`, a non-finite point starts a new
    /// polyline when the next finite point is at least one whole column further on; shorter
    /// gaps are invisible at this resolution and are drawn connected.
    static func polylines(position: [Double], y: [Double], columns: Int, breakOnGaps: Bool) -> [[Int]] {
        let n = min(position.count, y.count)
        guard n > 0 else { return [] }
        var monotonic = true
        var previous = -Double.infinity
        for i in 0..<n where position[i].isFinite && y[i].isFinite {
            if position[i] < previous {
                monotonic = false
                break
            }
            previous = position[i]
        }
        func key(_ i: Int) -> Int {
            if monotonic { return Int(min(max(position[i], -1e6), 1e6).rounded(.down)) }
            return Int((Double(i) * Double(columns) / Double(n)).rounded(.down))
        }

        var lines: [[Int]] = []
        var current: [Int] = []
        var bucket = Int.min
        var lowest = -1, highest = -1
        var gap = false
        func flush() {
            guard lowest >= 0 else { return }
            if lowest == highest {
                current.append(lowest)
            } else {
                current.append(min(lowest, highest))
                current.append(max(lowest, highest))
            }
            lowest = -1
            highest = -1
        }
        for i in 0..<n {
            guard position[i].isFinite, y[i].isFinite else {
                gap = true
                continue
            }
            let k = key(i)
            if k != bucket {
                flush()
                if gap && breakOnGaps && k > bucket + 1 && !current.isEmpty {
                    lines.append(current)
                    current = []
                }
                bucket = k
                lowest = i
                highest = i
            } else {
                if y[i] < y[lowest] { lowest = i }
                if y[i] > y[highest] { highest = i }
            }
            gap = false
        }
        flush()
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
