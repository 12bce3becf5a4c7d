import { openfuguProject } from '@openfugu/vitest-config';

export default openfuguProject('app-trainer');
