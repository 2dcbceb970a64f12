import Dispatch
import Foundation
import Webhooks

// Reads the command line and the environment, wires the pieces, handles signals. No logic.

let command: LakehookCommand
do {
    command = try LakehookCommand.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("lakehook: \(error)\nRun lakehook --help for usage.\n".utf8))
    exit(2)
}
if command == .help {
    print(LakehookCommand.usage, terminator: "")
    exit(0)
}

let configuration: Configuration
do {
    configuration = try Configuration.fromEnvironment()
} catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(2)
}

guard command == .serve else {
    do {
        try CommandRunner(configuration: configuration).run(command)
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("lakehook: \(error)\n".utf8))
        exit(1)
    }
}

let application = Application(configuration: configuration)
do {
    try application.start()
} catch {
    FileHandle.standardError.write(Data("""
        lakehook: cannot serve on \(configuration.listenHost):\(configuration.listenPort): \(error)
        (Another program on that port? Pick another with LAKEHOOK_LISTEN, e.g. LAKEHOOK_LISTEN=127.0.0.1:4001.)

        """.utf8))
    exit(1)
}

signal(SIGTERM, SIG_IGN)
signal(SIGINT, SIG_IGN)
let signalQueue = DispatchQueue(label: "lakehook.signals")
// Sendable, so not isolated to the main actor: it runs on `signalQueue`.
let stop: @Sendable () -> Void = { [application, configuration] in
    application.shutdown(deadline: configuration.shutdownDeadline)
    exit(0)
}
var signalSources: [DispatchSourceSignal] = []
for signalNumber in [SIGTERM, SIGINT] {
    let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: signalQueue)
    source.setEventHandler(handler: stop)
    source.resume()
    signalSources.append(source)
}
// The main thread only waits. Not `dispatchMain()`: it ends the main thread with pthread_exit
// and later runs Dispatch's signal handling on the unwound stack, which AddressSanitizer
// reports as a stack-buffer-overflow (`make check`, SIGTERM under load, about one run in three).
withExtendedLifetime(signalSources) { DispatchSemaphore(value: 0).wait() }
