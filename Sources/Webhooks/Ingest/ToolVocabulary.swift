/// The words CI/CD tools use for a run's result and status, and what they mean in DevLake's terms
/// (API.md amendments of 2026-12-03; the table, with the DevLake plugin file behind each row, is
/// docs/API-VOCABULARY.md — a word added here is added there and in scripts/gen-openapi.py, which
/// `ToolVocabularyTests` checks).
///
/// Each word is mapped as DevLake's plugin for its tool maps it (`devops.GetResult` /
/// `GetStatus` rules, matched in any case), with two house rules: a cancellation (ABORTED,
/// CANCELLED, CANCELED, STOPPED) is ABORT, as DevLake v0.16–v0.19's `Abort` rules had it and
/// Lakehook's classic vocabulary keeps (v0.20+ fold it into FAILURE); and a word DevLake leaves
/// without a status (STATUS_OTHER) is IN_PROGRESS when it waits for something, DONE when it is final.
enum ToolVocabulary {
    /// What a word means as a result.
    enum Outcome: Equatable, Sendable {
        case success, failure, abort
        /// Not finished: a task's IN_PROGRESS; a deployment has no result yet ('').
        case unfinished
        /// Finished without a verdict (skipped, neutral, unstable, …): DevLake's RESULT_DEFAULT, ''.
        case none
    }

    /// One word: its result (nil: not a result word, e.g. DONE) and its status.
    struct Word: Equatable, Sendable {
        var result: Outcome?
        var done: Bool
    }

    /// Every word, lower-case (matching ignores ASCII case). Tools that share a word agree on it,
    /// except `skipped`: Azure Pipelines' task rule makes it FAILURE, GitHub's, GitLab's and
    /// Bitbucket's plugins no result; Lakehook takes the majority.
    static let words: [(word: String, meaning: Word)] = [
        // DevLake's own words (the webhook API's, API.md §4, §6).
        ("success", Word(result: .success, done: true)),
        ("failure", Word(result: .failure, done: true)),
        ("abort", Word(result: .abort, done: true)),
        ("in_progress", Word(result: .unfinished, done: false)),
        ("done", Word(result: nil, done: true)),
        // Jenkins: build results and pipeline stage statuses.
        ("failed", Word(result: .failure, done: true)),
        ("aborted", Word(result: .abort, done: true)),
        ("unstable", Word(result: Outcome.none, done: true)),
        ("not_built", Word(result: Outcome.none, done: true)),
        ("not_executed", Word(result: Outcome.none, done: true)),
        // GitHub Actions: run and job conclusions and statuses; deployment states.
        ("cancelled", Word(result: .abort, done: true)),
        ("timed_out", Word(result: .failure, done: true)),
        ("startup_failure", Word(result: .failure, done: true)),
        ("skipped", Word(result: Outcome.none, done: true)),
        ("neutral", Word(result: Outcome.none, done: true)),
        ("action_required", Word(result: Outcome.none, done: true)),
        ("stale", Word(result: Outcome.none, done: true)),
        ("completed", Word(result: .success, done: true)),
        ("queued", Word(result: .unfinished, done: false)),
        ("waiting", Word(result: .unfinished, done: false)),
        ("pending", Word(result: .unfinished, done: false)),
        ("requested", Word(result: .unfinished, done: false)),
        ("active", Word(result: .success, done: true)),
        ("inactive", Word(result: .success, done: true)),
        ("error", Word(result: .failure, done: true)),
        ("destroyed", Word(result: Outcome.none, done: true)),
        // GitLab CI: pipeline, job and deployment statuses.
        ("canceled", Word(result: .abort, done: true)),
        ("manual", Word(result: Outcome.none, done: false)),
        ("running", Word(result: .unfinished, done: false)),
        ("created", Word(result: .unfinished, done: false)),
        ("waiting_for_resource", Word(result: .unfinished, done: false)),
        ("preparing", Word(result: .unfinished, done: false)),
        ("scheduled", Word(result: .unfinished, done: false)),
        ("blocked", Word(result: Outcome.none, done: false)),
        ("undeployed", Word(result: .failure, done: true)),
        // CircleCI: job and workflow statuses.
        ("failing", Word(result: .failure, done: true)),
        ("infrastructure_fail", Word(result: .failure, done: true)),
        ("timedout", Word(result: .failure, done: true)),
        ("not_run", Word(result: Outcome.none, done: true)),
        ("terminated-unknown", Word(result: Outcome.none, done: true)),
        ("retried", Word(result: Outcome.none, done: true)),
        ("unauthorized", Word(result: Outcome.none, done: true)),
        ("not_running", Word(result: .unfinished, done: false)),
        ("on_hold", Word(result: Outcome.none, done: false)),
        // Bitbucket Pipelines: pipeline, step and deployment states.
        ("successful", Word(result: .success, done: true)),
        ("passed", Word(result: .success, done: true)),
        ("stopped", Word(result: .abort, done: true)),
        ("halted", Word(result: Outcome.none, done: true)),
        ("expired", Word(result: Outcome.none, done: true)),
        ("paused", Word(result: Outcome.none, done: false)),
        ("building", Word(result: .unfinished, done: false)),
        ("ready", Word(result: .unfinished, done: false)),
        // Azure Pipelines: build and timeline record results and states.
        ("succeeded", Word(result: .success, done: true)),
        ("partiallysucceeded", Word(result: .success, done: true)),
        ("succeededwithissues", Word(result: .success, done: true)),
        ("abandoned", Word(result: .failure, done: true)),
        ("none", Word(result: .failure, done: true)),
        ("cancelling", Word(result: .abort, done: true)),
        ("inprogress", Word(result: .unfinished, done: false)),
        ("notstarted", Word(result: .unfinished, done: false)),
        ("postponed", Word(result: .unfinished, done: false)),
        // Argo CD: sync operation phases, and application health (not read by DevLake's plugin).
        ("terminating", Word(result: .failure, done: false)),
        ("healthy", Word(result: .success, done: true)),
        ("degraded", Word(result: .failure, done: true)),
        ("missing", Word(result: .failure, done: true)),
        ("progressing", Word(result: .unfinished, done: false)),
        ("suspended", Word(result: Outcome.none, done: false)),
        ("unknown", Word(result: Outcome.none, done: true)),
    ]

    static let byWord: [String: Word] = Dictionary(words.map { ($0.word, $0.meaning) }, uniquingKeysWith: { first, _ in first })

    /// The meaning of `text` in any ASCII case, or nil when no tool uses it.
    static func meaning(of text: String) -> Word? {
        guard text.utf8.count <= 32 else { return nil }
        let lower = String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        return byWord[lower]
    }

    /// Where a route reads the word: which stored value each meaning becomes.
    enum Field {
        case taskResult, deploymentResult, status

        /// The stored value for a meaning, or nil when the word is not one of this field's.
        func value(of word: Word) -> String? {
            switch self {
            case .status:
                return word.done ? "DONE" : "IN_PROGRESS"
            case .taskResult, .deploymentResult:
                guard let result = word.result else { return nil }
                switch result {
                case .success: return "SUCCESS"
                case .failure: return "FAILURE"
                case .abort: return "ABORT"
                case .unfinished: return self == .taskResult ? "IN_PROGRESS" : ""
                case .none: return ""
                }
            }
        }

        /// DevLake's words for this field, which a 400's cause lists.
        var canonical: [String] {
            switch self {
            case .taskResult: Vocabulary.taskResults
            case .deploymentResult: DeploymentUpsert.results
            case .status: Vocabulary.taskStatuses
            }
        }
    }

    static let pointer = "docs/API-VOCABULARY.md"
}

extension FieldReader {
    /// A result or status in DevLake's words or a CI/CD tool's (`ToolVocabulary`): the stored
    /// value and the text as posted (for `original_*`). Absent, `null` and `""` are absent.
    mutating func toolWord(
        _ field: String, as kind: ToolVocabulary.Field, required: Bool = false
    ) -> (value: String, posted: String)? {
        guard let value = value(field), value != .string("") else {
            if required { fail(field, "is required") }
            return nil
        }
        if case .string(let text) = value {
            if let canonical = kind.canonical.first(where: { Self.equalIgnoringASCIICase(text, $0) }) {
                return (canonical, text)
            }
            if let word = ToolVocabulary.meaning(of: text), let stored = kind.value(of: word) {
                return (stored, text)
            }
        }
        fail(field, "must be one of \(kind.canonical.joined(separator: ", ")), or a CI/CD tool's word for one"
            + " (Jenkins, GitHub Actions, GitLab CI, CircleCI, Bitbucket, Azure Pipelines, Argo CD: \(ToolVocabulary.pointer))")
        return nil
    }
}
