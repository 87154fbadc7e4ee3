import Testing
@testable import OTLPExporter
