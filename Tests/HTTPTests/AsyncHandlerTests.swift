import Dispatch
import Foundation
import HTTP
import Testing
import TestSupport

/// Runs `body` against a fresh server with an async handler on an ephemeral loopback port.
private func withAsyncServer<T>(
    eventLoops: Int? = nil, handler: @escaping HTTPAsyncHandler, _ body: (HTTPServer) throws -> T
) throws -> T {
    let server = HTTPServer(
        host: "127.0.0.1", port: 0, limits: ServerLimits(), eventLoops: eventLoops, asyncHandler: handler,
        errorResponse: testErrorResponse)
    try server.start()
    defer { server.shutdown(deadline: .seconds(2)) }
    return try body(server)
}

/// A 200 whose body is `text`.
private func answer(_ text: String, headers: [(String, String)] = []) -> HTTPResponse {
    var fields = HTTPHeaders()
    for (name, value) in headers { fields.add(name: name, value: value) }
    return HTTPResponse(status: 200, headers: fields, body: Array(text.utf8))
}

/// What a handler saw about the thread it ran on.
private struct ThreadFacts: Equatable {
    /// `EventLoop.current` was the responder's loop.
    var onRespondersLoop = false
    /// `EventLoop.current` was nil.
    var offLoop = false
    var inLoop = false
}

private func facts(_ responder: HTTPResponder) -> ThreadFacts {
    let current = EventLoop.current
    return ThreadFacts(
        onRespondersLoop: current != nil && current === responder.eventLoop, offLoop: current == nil,
        inLoop: responder.eventLoop.inLoop)
}

/// Sends `GET /<prefix>0`, `/<prefix>1`, `/<prefix>2` one after the other on `client` (one
/// keep-alive connection); each must be answered 200 with "<word> <path>".
private func expectThreeAnswers(on client: TestClient, prefix: String, word: String) throws {
    for index in 0..<3 {
        try client.send("GET /\(prefix)\(index) HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "\(word) /\(prefix)\(index)")
    }
}

@Suite("HTTPServer: async handlers on the event loop")
struct AsyncHandlerTests {
    @Test("a handler runs on the responder's loop and an answer given at once arrives")
    func respondsAtOnceOnTheLoop() throws {
        let seen = Shared<[ThreadFacts]>([])
        try withAsyncServer(handler: { request, responder in
            seen.withLock { $0.append(facts(responder)) }
            responder.respond(answer("at once \(request.path)"))
        }) { server in
            // The test's own thread belongs to no loop.
            #expect(EventLoop.current == nil)
            let client = try TestClient(port: server.port)
            for index in 0..<2 {
                try client.send("GET /now\(index) HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try client.readResponse()
                #expect(response.status == 200)
                #expect(response.text == "at once /now\(index)")
            }
        }
        let observed = seen.withLock { $0 }
        #expect(observed.count == 2)
        #expect(observed.allSatisfy { $0.onRespondersLoop && $0.inLoop && !$0.offLoop })
    }

    @Test("an answer given later from another thread hops to the loop and arrives; the connection stays usable")
    func respondsLaterFromAnotherThread() throws {
        let respondedFrom = Shared<[ThreadFacts]>([])
        try withAsyncServer(handler: { request, responder in
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) {
                respondedFrom.withLock { $0.append(facts(responder)) }
                responder.respond(answer("later \(request.path)"))
            }
        }) { server in
            let client = try TestClient(port: server.port)
            try expectThreeAnswers(on: client, prefix: "later", word: "later")
            #expect(server.openConnectionCount == 1)
        }
        let observed = respondedFrom.withLock { $0 }
        #expect(observed.count == 3)
        #expect(observed.allSatisfy { $0.offLoop && !$0.inLoop })
    }

    @Test("work queued with eventLoop.execute from another thread runs on the loop and can answer")
    func respondsFromExecute() throws {
        let inExecute = Shared<[ThreadFacts]>([])
        try withAsyncServer(handler: { request, responder in
            DispatchQueue.global().async {
                responder.eventLoop.execute {
                    inExecute.withLock { $0.append(facts(responder)) }
                    responder.respond(answer("executed \(request.path)"))
                }
            }
        }) { server in
            let client = try TestClient(port: server.port)
            try expectThreeAnswers(on: client, prefix: "x", word: "executed")
        }
        let observed = inExecute.withLock { $0 }
        #expect(observed.count == 3)
        #expect(observed.allSatisfy { $0.onRespondersLoop && $0.inLoop })
    }

    @Test("offloaded work runs off the loop and its answer arrives")
    func offloadRunsOffTheLoop() throws {
        let inWork = Shared<[ThreadFacts]>([])
        try withAsyncServer(handler: { request, responder in
            responder.offload {
                inWork.withLock { $0.append(facts(responder)) }
                usleep(20_000)  // blocking is what offload is for
                return answer("offloaded \(request.path)")
            }
        }) { server in
            let client = try TestClient(port: server.port)
            try expectThreeAnswers(on: client, prefix: "o", word: "offloaded")
        }
        let observed = inWork.withLock { $0 }
        #expect(observed.count == 3)
        #expect(observed.allSatisfy { $0.offLoop && !$0.inLoop })
    }

    /// Each answer written at once re-enters `Connection.drive` (output drained → back to
    /// reading); the outer call must go on with the requests already buffered.
    @Test("50 requests pipelined in one write, answered at once on the loop, come back complete and in order")
    func pipelinedRequestsAnsweredAtOnce() throws {
        let count = 50
        let onLoop = Shared(0)
        try withAsyncServer(handler: { request, responder in
            if facts(responder).onRespondersLoop { onLoop.withLock { $0 += 1 } }
            responder.respond(answer("answer to \(request.path)"))
        }) { server in
            let client = try TestClient(port: server.port)
            let requests = (0..<count).map { "GET /p\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined()
            try client.send(requests)
            var bodies: [String] = []
            for _ in 0..<count {
                let response = try client.readResponse()
                #expect(response.status == 200)
                bodies.append(response.text)
            }
            #expect(bodies == (0..<count).map { "answer to /p\($0)" })
            // Still a working keep-alive connection afterwards.
            try client.send("GET /after HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse().text == "answer to /after")
        }
        #expect(onLoop.withLock { $0 } == count + 1)
    }

    @Test("with two event loops, 20 concurrent connections are all answered and spread over both loops")
    func twoLoops() throws {
        let loopsSeen = Shared<Set<Int>>([])
        let distinctLoopObjects = Shared<[ObjectIdentifier: Int]>([:])
        try withAsyncServer(eventLoops: 2, handler: { request, responder in
            let loop = responder.eventLoop
            loopsSeen.withLock { _ = $0.insert(loop.index) }
            distinctLoopObjects.withLock { $0[ObjectIdentifier(loop)] = loop.index }
            responder.respond(answer(request.path, headers: [("X-Loop", String(loop.index))]))
        }) { server in
            let clients = try (0..<20).map { _ in try TestClient(port: server.port) }
            for (index, client) in clients.enumerated() {
                try client.send("GET /c\(index) HTTP/1.1\r\nHost: t\r\n\r\n")
            }
            var loopHeaders = Set<String>()
            for (index, client) in clients.enumerated() {
                let response = try client.readResponse()
                #expect(response.status == 200)
                #expect(response.text == "/c\(index)")
                loopHeaders.insert(response.header("X-Loop") ?? "none")
            }
            #expect(loopHeaders == ["0", "1"])
        }
        #expect(loopsSeen.withLock { $0 } == [0, 1])
        #expect(distinctLoopObjects.withLock { $0.count } == 2)
    }

    @Test("an answer given from eventLoop.afterEvents runs after the handler returned, on the loop, and arrives")
    func respondsFromAfterEvents() throws {
        let returned = Shared<Set<String>>([])
        let inDeferred = Shared<[(facts: ThreadFacts, handlerHadReturned: Bool)]>([])
        try withAsyncServer(handler: { request, responder in
            let path = request.path
            responder.eventLoop.afterEvents {
                let handlerHadReturned = returned.withLock { $0.contains(path) }
                inDeferred.withLock { $0.append((facts(responder), handlerHadReturned)) }
                responder.respond(answer("deferred \(path)"))
            }
            returned.withLock { _ = $0.insert(path) }
        }) { server in
            let client = try TestClient(port: server.port)
            try expectThreeAnswers(on: client, prefix: "d", word: "deferred")
        }
        let observed = inDeferred.withLock { $0 }
        #expect(observed.count == 3)
        #expect(observed.allSatisfy { $0.facts.onRespondersLoop && $0.handlerHadReturned })
    }
}
