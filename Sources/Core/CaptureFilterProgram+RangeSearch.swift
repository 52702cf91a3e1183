extension CaptureFilterProgram {
    /// The cBPF code of `A in ranges ? accept : fall through`: a balanced binary search over
    /// sorted, disjoint, non-adjacent ranges.
    ///
    /// Layout: the ranges are cut into blocks of at most ``blockLimit``. A block is a binary
    /// tree in preorder: an inner node is `jge lower[mid]` (true: its right half, false: its
    /// left half, which follows it), leaf i is `jgt upper[i]` (true: miss, false: accept),
    /// the very first range's leaf preceded by `jge lower[0]`; then the block's own
    /// `ret accept` and miss (`ja` to the end of the search). So every conditional jump stays
    /// within its block, under the 8-bit limit of cBPF offsets. Above the blocks the same
    /// tree splits at block boundaries; an inner node whose left half is longer than 255
    /// instructions reaches its right half through a `ja` trampoline (32-bit offset).
    ///
    /// Why a leaf needs one compare: at leaf i the search knows A < lower[i+1] and, for
    /// i > 0, A >= lower[i]; the ranges being sorted and disjoint, A is in one of them
    /// exactly when A <= upper[i] (and, for the first, A >= lower[0]).
    ///
    /// Size: 2 instructions per range, plus 2 per block and 1 or 2 per block split.
    struct RangeSearch {
        /// The most ranges in one block: 2 × 120 + 2 instructions, every jump inside ≤ 255.
        static let blockLimit = 120
        /// The longest offset a conditional jump can hold.
        static let longestJump = 255

        /// The ranges searched (sorted, merged).
        let ranges: [ClosedRange<UInt32>]
        /// The blocks, as index ranges into ``ranges``, in order, of nearly equal length.
        let blocks: [Range<Int>]
        /// The instructions ``instructions(accept:)`` returns.
        private(set) var size = 0

        /// The search over `ranges`, which must be sorted, disjoint and non-adjacent.
        init(ranges: [ClosedRange<UInt32>]) {
            self.ranges = ranges
            let count = (ranges.count + Self.blockLimit - 1) / Self.blockLimit
            blocks = (0..<count).map { block in (block * ranges.count / count)..<((block + 1) * ranges.count / count) }
            size = blocks.isEmpty ? 0 : splitSize(0..<blocks.count)
        }

        /// The code, offsets relative to its first instruction; a miss jumps to just past it.
        func instructions(accept: Instruction) -> [Instruction] {
            guard !blocks.isEmpty else { return [] }
            var code: [Instruction] = []
            code.reserveCapacity(size)
            emitSplit(0..<blocks.count, accept: accept, into: &code)
            precondition(code.count == size, "range search: \(code.count) instructions, sized \(size)")
            return code
        }

        /// Instructions of the leaf-and-node tree over `members` (without the block's returns).
        private func treeSize(_ members: Range<Int>) -> Int {
            2 * members.count - 1 + (members.lowerBound == 0 ? 1 : 0)
        }

        /// Instructions of the split tree over `blockIndices`.
        private func splitSize(_ blockIndices: Range<Int>) -> Int {
            if blockIndices.count == 1 { return treeSize(blocks[blockIndices.lowerBound]) + 2 }
            let middle = blockIndices.lowerBound + blockIndices.count / 2
            let left = splitSize(blockIndices.lowerBound..<middle)
            return 1 + (left > Self.longestJump ? 1 : 0) + left + splitSize(middle..<blockIndices.upperBound)
        }

        private func emitSplit(_ blockIndices: Range<Int>, accept: Instruction, into code: inout [Instruction]) {
            if blockIndices.count == 1 {
                emitBlock(blocks[blockIndices.lowerBound], accept: accept, into: &code)
                return
            }
            let middle = blockIndices.lowerBound + blockIndices.count / 2
            let left = splitSize(blockIndices.lowerBound..<middle)
            let bound = ranges[blocks[middle].lowerBound].lowerBound
            if left > Self.longestJump {
                code.append(Instruction(code: Op.jge, jt: 0, jf: 1, k: bound))
                code.append(Instruction(code: Op.ja, k: UInt32(left)))  // the trampoline
            } else {
                code.append(Instruction(code: Op.jge, jt: UInt8(left), jf: 0, k: bound))
            }
            emitSplit(blockIndices.lowerBound..<middle, accept: accept, into: &code)
            emitSplit(middle..<blockIndices.upperBound, accept: accept, into: &code)
        }

        private func emitBlock(_ members: Range<Int>, accept: Instruction, into code: inout [Instruction]) {
            let acceptIndex = code.count + treeSize(members)
            emitTree(members, acceptIndex: acceptIndex, missIndex: acceptIndex + 1, into: &code)
            code.append(accept)
            code.append(Instruction(code: Op.ja, k: UInt32(size - code.count - 1)))  // miss: past the search
        }

        private func emitTree(_ members: Range<Int>, acceptIndex: Int, missIndex: Int, into code: inout [Instruction]) {
            func offset(to target: Int) -> UInt8 {
                let distance = target - code.count - 1
                precondition(distance >= 0 && distance <= Self.longestJump, "range search: jump of \(distance)")
                return UInt8(distance)
            }
            if members.count == 1 {
                let range = ranges[members.lowerBound]
                if members.lowerBound == 0 {
                    code.append(Instruction(code: Op.jge, jt: 0, jf: offset(to: missIndex), k: range.lowerBound))
                }
                code.append(Instruction(code: Op.jgt, jt: offset(to: missIndex), jf: offset(to: acceptIndex), k: range.upperBound))
                return
            }
            let middle = members.lowerBound + members.count / 2
            let left = members.lowerBound..<middle
            code.append(Instruction(code: Op.jge, jt: UInt8(treeSize(left)), jf: 0, k: ranges[middle].lowerBound))
            emitTree(left, acceptIndex: acceptIndex, missIndex: missIndex, into: &code)
            emitTree(middle..<members.upperBound, acceptIndex: acceptIndex, missIndex: missIndex, into: &code)
        }
    }
}
