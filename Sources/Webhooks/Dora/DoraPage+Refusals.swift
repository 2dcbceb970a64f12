/// The DORA page's way to "my CI gets a 400 and I can't see why": each connection of the project
/// with its refused requests of the last 24 hours, linked to the journal's events route (the
/// admin token the page was opened with is the one that route takes), and the same in a terminal.
extension DoraPage {
    static func refusalsSection(_ connections: [ConnectionRefusals]) -> String {
        var out = [#"<section class="refusals" id="refusals">"#, "<h2>Refused requests, last 24 hours</h2>", "<ul>"]
        for connection in connections {
            let events = "\(WebhookService.prefixes[0])/connections/\(connection.connectionId)/events"
            var item = "<li>\(DoraHTML.escape(connection.name)) (\(connection.connectionId)): "
            if connection.count == 0 {
                item += "none"
            } else {
                item += #"<a href="\#(DoraHTML.escape(events + "?status=4xx&since=24h"))">\#(connection.count) refused</a>"#
                if let last = connection.last {
                    item += ", the last at " + DoraHTML.escape(String(last.iso8601.prefix(16)).replacingOccurrences(of: "T", with: " ")) + " UTC"
                }
            }
            item += #" · <a href="\#(DoraHTML.escape(events + "?since=24h"))">every request</a></li>"#
            out.append(item)
        }
        out.append("</ul>")
        out.append("<p>With each refusal's causes, in a terminal: <code>lakehook events --connection ID --status 4xx --since 24h</code>"
            + " (<code>--follow</code> shows them as they come).</p>")
        out.append("</section>")
        return out.joined(separator: "\n")
    }
}
