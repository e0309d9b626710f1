import Foundation
import GRDB
import TetherCore

/// The project's memory: every validation, trial series, calibration and improvement iteration,
/// one row each, in a local SQLite database (through GRDB), so that `tether history` can show how
/// a robot's success rate moved across iterations.
///
/// Where the database lives: `$TETHER_HISTORY` when set (a path; `off` disables recording), else
/// `.tether/history.sqlite` under the current directory: like git, the history belongs to the
/// project folder the commands are run in, not to the user. Recording never makes a command fail:
/// a database that cannot be opened or written is reported as a warning and the command's own
/// result files stay the record.
///
/// The schema is versioned with GRDB's migrator; a database written by a newer Tether (unknown
/// migrations) is refused with a clear error instead of being altered.
public final class History: Sendable {
    /// What a row records.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case validation, trials, calibration, improvement, detection
        /// A `tether deploy` on a robot: how it got through the deployment gate (GO or OVERRIDE).
        case deployment
    }

    /// One recorded run.
    public struct Entry: Sendable, Codable, Equatable, FetchableRecord, MutablePersistableRecord {
        public static let databaseTableName = "run"
        /// Row id (nil before insertion).
        public var id: Int64?
        /// UTC time the run finished.
        public var createdAt: Date
        public var kind: Kind
        /// Robot name (the manifest's).
        public var robot: String
        /// Policy or model the run was about (path as given), if any.
        public var policy: String?
        /// Where the run happened: sim, emulator, ros2, randomized simulation, ….
        public var backend: String?
        /// Trials (or images, for detection) and successes.
        public var trials: Int?
        public var successes: Int?
        /// Success rate in [0, 1] (mAP for detection) and its 95 % interval.
        public var rate: Double?
        public var lower: Double?
        public var upper: Double?
        /// GO / NO-GO, PASS / WARN, … as the command decided it.
        public var decision: String?
        /// One line in words.
        public var summary: String
        /// Further numbers by name (SI units; names say what they are).
        public var metrics: [String: Double]
        /// The run's result file (JSON) or folder.
        public var artifact: String?
        /// The command line that produced it.
        public var command: String?
        // Schema v2: what the deployment gate needs (nil in rows recorded before it).
        /// FNV-1a 64 digest of the policy file's bytes (`FileDigest`): the gate identifies a policy by content, not path.
        public var policyDigest: String?
        /// The manifest's path and the digest of its bytes.
        public var manifest: String?
        public var manifestDigest: String?
        /// Validation: the randomization spec it ran under and its digest (nil: the nominal model only).
        public var randomization: String?
        public var randomizationDigest: String?
        /// Validation: the gate's threshold on the lower bound (0…1).
        public var threshold: Double?
        /// Deployment and trials on a robot: the operator's reason for overriding the gate.
        public var overrideReason: String?
        /// Deployment and trials on a robot: the id of the validation that cleared the policy.
        public var clearedBy: Int64?

        public init(id: Int64? = nil, createdAt: Date = Date(), kind: Kind, robot: String, policy: String? = nil, backend: String? = nil,
                    trials: Int? = nil, successes: Int? = nil, rate: Double? = nil, lower: Double? = nil, upper: Double? = nil,
                    decision: String? = nil, summary: String, metrics: [String: Double] = [:], artifact: String? = nil, command: String? = nil,
                    policyDigest: String? = nil, manifest: String? = nil, manifestDigest: String? = nil, randomization: String? = nil,
                    randomizationDigest: String? = nil, threshold: Double? = nil, overrideReason: String? = nil, clearedBy: Int64? = nil) {
            self.id = id; self.createdAt = createdAt; self.kind = kind; self.robot = robot; self.policy = policy; self.backend = backend
            self.trials = trials; self.successes = successes; self.rate = rate; self.lower = lower; self.upper = upper
            self.decision = decision; self.summary = summary; self.metrics = metrics; self.artifact = artifact; self.command = command
            self.policyDigest = policyDigest; self.manifest = manifest; self.manifestDigest = manifestDigest
            self.randomization = randomization; self.randomizationDigest = randomizationDigest; self.threshold = threshold
            self.overrideReason = overrideReason; self.clearedBy = clearedBy
        }

        public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

        public enum Columns {
            static let createdAt = Column(CodingKeys.createdAt)
            static let kind = Column(CodingKeys.kind)
            static let robot = Column(CodingKeys.robot)
            static let policy = Column(CodingKeys.policy)
        }
    }

    /// A filter for `entries`.
    public struct Query: Sendable, Equatable {
        public var robot: String?
        public var kinds: Set<Kind> = []
        /// Substring of the policy path.
        public var policy: String?
        /// The most recent this many (all when nil), returned oldest first.
        public var limit: Int?
        public init(robot: String? = nil, kinds: Set<Kind> = [], policy: String? = nil, limit: Int? = nil) {
            self.robot = robot; self.kinds = kinds; self.policy = policy; self.limit = limit
        }
    }

    /// The database file.
    public let path: String
    private let queue: DatabaseQueue

    /// Opens (creating folder, file and schema when needed) the database at `path`.
    public init(path: String) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw TetherError("cannot create the history folder: \(error.localizedDescription)", at: folder,
                                  hint: "set TETHER_HISTORY to a writable path, or TETHER_HISTORY=off")
            }
        }
        do {
            queue = try DatabaseQueue(path: path)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.create(table: "run") { t in
                    t.autoIncrementedPrimaryKey("id")
                    t.column("createdAt", .datetime).notNull().indexed()
                    t.column("kind", .text).notNull()
                    t.column("robot", .text).notNull().indexed()
                    t.column("policy", .text)
                    t.column("backend", .text)
                    t.column("trials", .integer)
                    t.column("successes", .integer)
                    t.column("rate", .double)
                    t.column("lower", .double)
                    t.column("upper", .double)
                    t.column("decision", .text)
                    t.column("summary", .text).notNull()
                    t.column("metrics", .jsonText).notNull()
                    t.column("artifact", .text)
                    t.column("command", .text)
                }
            }
            // v2: content digests and gate facts, so that `tether deploy` and `tether trials` on a
            // robot can find a policy's last validation for a robot and manifest (DeploymentGate).
            // Rows of v1 keep NULL there: they never clear the gate.
            migrator.registerMigration("v2") { db in
                try db.alter(table: "run") { t in
                    t.add(column: "policyDigest", .text)
                    t.add(column: "manifest", .text)
                    t.add(column: "manifestDigest", .text)
                    t.add(column: "randomization", .text)
                    t.add(column: "randomizationDigest", .text)
                    t.add(column: "threshold", .double)
                    t.add(column: "overrideReason", .text)
                    t.add(column: "clearedBy", .integer)
                }
                try db.create(index: "run_on_policyDigest", on: "run", columns: ["policyDigest"])
            }
            let known = Set(migrator.migrations)
            let applied = try queue.read { db in try migrator.appliedIdentifiers(db) }
            if let unknown = applied.subtracting(known).sorted().first {
                throw TetherError("the history database was written by a newer Tether (schema '\(unknown)')", at: path,
                                  hint: "update Tether, or point TETHER_HISTORY at another file")
            }
            try migrator.migrate(queue)
        } catch let error as TetherError {
            throw error
        } catch {
            throw TetherError("cannot open the history database: \(error)", at: path,
                              hint: "is it a Tether history file? Move it away or set TETHER_HISTORY to another path")
        }
    }

    /// Where commands record by default, or nil when recording is off (`TETHER_HISTORY=off`).
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment,
                                   currentDirectory: String = FileManager.default.currentDirectoryPath) -> String? {
        if let value = environment["TETHER_HISTORY"], !value.isEmpty {
            return ["off", "0", "no", "false"].contains(value.lowercased()) ? nil : value
        }
        return (currentDirectory as NSString).appendingPathComponent(".tether/history.sqlite")
    }

    /// Appends an entry; returns it with its id.
    @discardableResult
    public func record(_ entry: Entry) throws -> Entry {
        var entry = entry
        do {
            try queue.write { db in try entry.insert(db) }
        } catch {
            throw TetherError("cannot write to the history database: \(error)", at: path)
        }
        return entry
    }

    /// Entries matching `query`, oldest first.
    public func entries(_ query: Query = Query()) throws -> [Entry] {
        do {
            return try queue.read { db in
                var request = Entry.all()
                if let robot = query.robot { request = request.filter(Entry.Columns.robot == robot) }
                if !query.kinds.isEmpty { request = request.filter(query.kinds.map(\.rawValue).contains(Entry.Columns.kind)) }
                if let policy = query.policy { request = request.filter(Entry.Columns.policy.like("%\(policy)%")) }
                request = request.order(Entry.Columns.createdAt.desc, Column("id").desc)
                if let limit = query.limit { request = request.limit(limit) }
                return try request.fetchAll(db).reversed()
            }
        } catch {
            throw TetherError("cannot read the history database: \(error)", at: path)
        }
    }

    /// Records `entry` at the default path, printing a warning instead of failing; returns the
    /// database path when it was written.
    @discardableResult
    public static func recordQuietly(_ entry: Entry, warn: (String) -> Void) -> String? {
        guard let path = defaultPath() else { return nil }
        do {
            try History(path: path).record(entry)
            return path
        } catch let error as TetherError {
            warn("warning: not recorded in the history: \(error.description)")
        } catch {
            warn("warning: not recorded in the history: \(error)")
        }
        return nil
    }
}
