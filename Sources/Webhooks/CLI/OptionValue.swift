/// The value of an option that takes one, in either spelling: `--name VALUE` (the value is the
/// next argument, taken from `rest`) or `--name=VALUE`. Nil when `argument` is none of `names`.
/// The one reader of valued options for `dora`, `events`, `replay`, `import` and `export`.
func optionValue(
    _ argument: String, among names: [String], rest: inout ArraySlice<String>
) throws(LakehookCommand.UsageError) -> (name: String, value: String)? {
    guard let name = names.first(where: { argument == $0 || argument.hasPrefix($0 + "=") }) else { return nil }
    if argument != name { return (name, String(argument.dropFirst(name.count + 1))) }
    guard let next = rest.popFirst() else { throw LakehookCommand.UsageError(description: "\(name) needs a value") }
    return (name, next)
}
