public import CohortData
public import Foundation

/// Loads a federation directory with each site's schema mapping applied before validation, as each site does
/// with its own files.
///
/// Mapping files are found beside the data: `DIR/<site>.mapping.yaml` (flat layout) or `DIR/<site>/mapping.yaml`
/// (one folder per site); explicit ones (`mappings`) take precedence. Sites without a mapping are read as they are.
public enum HarmonizedFederation {
    /// The mapping files in a federation directory, by site name.
    public static func discoverMappings(in dir: URL) -> [String: URL] {
        let fm = FileManager.default
        var out = [String: URL]()
        for entry in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] {
            let url = dir.appendingPathComponent(entry)
            if entry.hasSuffix(".mapping.yaml") {
                out[String(entry.dropLast(".mapping.yaml".count))] = url
            } else if fm.fileExists(atPath: url.appendingPathComponent("mapping.yaml").path) {
                out[entry] = url.appendingPathComponent("mapping.yaml")
            }
        }
        return out
    }

    /// Loads `dir` with the mappings applied.
    ///
    /// - Parameters:
    ///   - mappings: Mapping files by site name (`*` for every site without its own); discovered ones fill in.
    ///   - options: Loader options; the schema must be given (`schemaURL` or `DIR/schema.yaml`), since the
    ///     files do not use its names until mapped.
    /// - Returns: The federation and the mapping file applied to each site.
    public static func load(
        _ dir: URL, mappings explicit: [String: URL] = [:], options: FederationLoader.Options = .init()
    ) throws -> (federation: Federation, mappings: [String: URL]) {
        var files = Self.discoverMappings(in: dir)
        for (site, url) in explicit { files[site] = url }
        guard !files.isEmpty else { return (try FederationLoader.directory(dir, options: options), [:]) }
        let schemaURL = options.schemaURL ?? dir.appendingPathComponent("schema.yaml")
        guard FileManager.default.fileExists(atPath: schemaURL.path) else {
            throw DataError(.schema, file: dir.path, "mapping files were given but there is no schema to map onto",
                            hint: "give the job's schema with --schema or put it in DIR/schema.yaml")
        }
        let schema = try DatasetSchema.load(from: schemaURL)
        var parsed = [String: SchemaMapping]()
        for (site, url) in files { parsed[site] = try SchemaMapping.load(from: url) }
        let mappings = parsed, mappingFiles = files
        var opts = options
        opts.schemaURL = schemaURL
        opts.transform = { site, file, bytes in
            guard let mapping = mappings[site] ?? mappings["*"] else { return bytes }
            return try SchemaMapper.apply(mapping, to: bytes, schema: schema, source: "\(file) (site \(site), mapped by \((mappingFiles[site] ?? mappingFiles["*"])?.path ?? "?"))").bytes
        }
        let federation = try FederationLoader.directory(dir, options: opts)
        var applied = [String: URL]()
        for s in federation.sites { if let u = files[s.name] ?? files["*"] { applied[s.name] = u } }
        return (federation, applied)
    }
}
